// Test-only look-alike secrets: they match the detectors' shapes and grant nothing anywhere.
// Each line carries the scanner's inline allow marker so the repository secret scan stays clean.
export const SAMPLE = {
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub3QtcmVhbCJ9.bm90LWEtcmVhbC1zaWduYXR1cmU", // scan-secrets:allow test-only sample
  pem: "-----BEGIN PRIVATE KEY-----\nbm90IGEgcmVhbCBrZXk=\n-----END PRIVATE KEY-----", // scan-secrets:allow test-only sample
  connectionString: "postgres://twist:not-a-real-password@postgres:5432/twist", // scan-secrets:allow test-only sample
  dsnPassword: "host=postgres user=twist password=not-a-real-password", // scan-secrets:allow test-only sample
  base64Key: "Q7vX9pL2mK8nR4tY6wZ1aB3cD5eF7gH9", // scan-secrets:allow test-only sample
  hexKey: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // scan-secrets:allow test-only sample
  awsKeyId: "AKIAIOSFODNN7EXAMPLE", // scan-secrets:allow AWS documentation example id
  keySet: "k1:Q7vX9pL2mK8nR4tY6wZ1aB3cD5eF7gH9", // scan-secrets:allow test-only sample
} as const;
