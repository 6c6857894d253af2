import { X509Certificate, createPrivateKey } from 'node:crypto';

/** Certificates HAProxy serves (custom, self-signed, acme): parsed and checked the same way. */

export interface CertInfo {
  cert: X509Certificate;
  notAfter: Date;
  subject: string;
}

/** Parses the first certificate of a PEM and checks the key (if given) belongs to it. */
export function inspectPem(certPem: string, keyPem?: string): CertInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new Error('does not parse as a PEM certificate');
  }
  if (keyPem !== undefined) {
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      throw new Error('the key is not a PEM private key (or it is encrypted)');
    }
    if (!cert.checkPrivateKey(key)) throw new Error('the key does not belong to the certificate');
  }
  return { cert, notAfter: new Date(cert.validTo), subject: cert.subject };
}
