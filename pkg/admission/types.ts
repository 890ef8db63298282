/**
 * Admission: plugins that see every write after it is decoded and defaulted and before it is
 * stored (upstream's admission.Interface). Mutating plugins run first (`admit`), then field
 * validation, then validating plugins (`validate`).
 */
import type { StoredObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import type { UserInfo } from '../auth/types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  def: ResourceDef;
  namespace?: string;
  name: string;
  subresource?: string;
  /** The object being written (absent for DELETE). Mutating plugins may change it in place. */
  object?: StoredObject;
  /** The object as stored before this write (UPDATE and DELETE). */
  oldObject?: StoredObject;
  user?: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  name: string;
  /** Mutating phase. Throw a StatusError to refuse. */
  admit?(a: AdmissionAttributes): Promise<void> | void;
  /** Validating phase. Throw a StatusError to refuse. */
  validate?(a: AdmissionAttributes): Promise<void> | void;
}

/** The ordered chain of plugins. */
export class AdmissionChain {
  constructor(readonly plugins: AdmissionPlugin[] = []) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(a);
  }
}
