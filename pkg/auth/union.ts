/** Authorizer chains (upstream's union authorizer and the privileged-group authorizer). */
import type { AuthorizationAttributes, Authorizer, Decision } from './types.js';

/** Asks each authorizer in turn; the first allow or deny decides, otherwise no opinion. */
export class UnionAuthorizer implements Authorizer {
  constructor(readonly authorizers: Authorizer[]) {}

  async authorize(a: AuthorizationAttributes): Promise<Decision> {
    const reasons: string[] = [];
    for (const z of this.authorizers) {
      const d = await z.authorize(a);
      if (d.decision !== 'noOpinion') return d;
      if (d.reason) reasons.push(d.reason);
    }
    return reasons.length ? { decision: 'noOpinion', reason: reasons.join(', ') } : { decision: 'noOpinion' };
  }
}

/** Allows everything to members of these groups (system:masters), ahead of any other authorizer. */
export class PrivilegedGroupsAuthorizer implements Authorizer {
  constructor(private readonly groups: string[]) {}

  authorize(a: AuthorizationAttributes): Decision {
    return a.user.groups.some((g) => this.groups.includes(g)) ? { decision: 'allow' } : { decision: 'noOpinion' };
  }
}
