/**
 * Admission: plugins that see every write after it is decoded and defaulted and before it is
 * stored (upstream's admission.Interface). Mutating plugins run first (`admit`), then field
 * validation, then validating plugins (`validate`).
 */
import type { StoredObject } from '../api/types.js';
import type { ResourceDef } from '../registry/types.js';
import type { UserInfo } from '../auth/types.js';
import { throwIfRequestExpired } from '../apiserver/request-context.js';

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

/**
 * The ordered chain of plugins. A request whose deadline passed (`--request-timeout`) goes no
 * further: the chain throws its 504 before each plugin and after the last, so a write that timed
 * out before it was admitted is not stored.
 */
export class AdmissionChain {
  constructor(readonly plugins: AdmissionPlugin[] = []) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      throwIfRequestExpired();
      if (p.admit) await p.admit(a);
    }
    throwIfRequestExpired();
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      throwIfRequestExpired();
      if (p.validate) await p.validate(a);
    }
    throwIfRequestExpired();
  }
}
