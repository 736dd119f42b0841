import { signRequest } from './signature.ts';

export interface ApiCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** Headers for a signed request (what a client library does); `timestamp` defaults to now. */
export function signedHeaders(
  credentials: ApiCredentials,
  method: string,
  pathWithQuery: string,
  body = '',
  timestamp: number = Date.now(),
): Record<string, string> {
  const stamp = String(timestamp);
  return {
    'X-API-KEY': credentials.apiKey,
    'X-TIMESTAMP': stamp,
    'X-SIGNATURE': signRequest(credentials.apiSecret, stamp, method, pathWithQuery, body),
    ...(body !== '' ? { 'Content-Type': 'application/json' } : {}),
  };
}
