/**
 * What TokenReview asks: the apiserver's token authenticators and default audiences. Installed by
 * the apiserver's auth configuration (pkg/auth/options.ts); without it every token is unauthenticated.
 */
import type { TokenAuthenticator } from '../../auth/token.js';

export interface AuthenticationBackend {
  tokens: TokenAuthenticator[];
  /** `--api-audiences`: the audiences of a review that names none. */
  apiAudiences: string[];
}

let backend: AuthenticationBackend | undefined;

export function setAuthenticationBackend(b: AuthenticationBackend | undefined): void {
  backend = b;
}

export function authenticationBackend(): AuthenticationBackend | undefined {
  return backend;
}
