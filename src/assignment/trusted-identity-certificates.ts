import { AWS_IDENTITY_CERTIFICATES } from "./aws-identity-certificates.js";
import { type TrustedCertificate, trustCertificate } from "./trusted-certificate.js";

/**
 * The certificates identity documents are verified against: those of
 * MAYFLY_EC2_IDENTITY_CERT_FILE when set (simulators, tests), else AWS's, each bound to its
 * Region.
 */
export function trustedIdentityCertificates(settings: {
  /** Settings.ec2IdentityCertificates: PEM certificates read from the file. */
  readonly ec2IdentityCertificates?: readonly string[];
}): TrustedCertificate[] {
  if (settings.ec2IdentityCertificates !== undefined) {
    return settings.ec2IdentityCertificates.map((pem, index) =>
      trustCertificate(pem, { name: `MAYFLY_EC2_IDENTITY_CERT_FILE #${index + 1}` }),
    );
  }
  return AWS_IDENTITY_CERTIFICATES.map(({ partition, region, pem }) =>
    trustCertificate(pem, { name: `${partition}/${region}`, region }),
  );
}
