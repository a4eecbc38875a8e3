/**
 * Throwaway TLS material for the MITM proxy: one short-lived CA and one leaf
 * certificate for the impersonated hosts, made with the `openssl` CLI.
 *
 * The CA is only ever handed to a child process through `NODE_EXTRA_CA_CERTS`;
 * nothing here installs it into a trust store.
 */
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"

/** Paths (inside the caller's directory) and PEM text of a generated CA + leaf. */
export interface Certificates {
  readonly caCertPath: string
  readonly caKeyPath: string
  readonly leafCertPath: string
  readonly leafKeyPath: string
  readonly caPem: string
  readonly leafCertPem: string
  readonly leafKeyPem: string
}

// Two days: long enough for any test run, short enough that a leaked CA is worthless soon.
const VALIDITY_DAYS = "2"

// Hosts end up inside an openssl config file, so only plain DNS names may pass.
const HOSTNAME =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

const openssl = (args: ReadonlyArray<string>, cwd: string): Promise<void> =>
  new Promise((resolve, reject) => {
    execFile(
      process.env["OPENSSL"] ?? "openssl",
      args,
      // A minimal env so a user's OPENSSL_CONF cannot inject default extensions.
      { cwd, timeout: 30_000, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } },
      (error, _stdout, stderr) => {
        if (error) {
          reject(new Error(`openssl ${args[0] ?? ""} failed: ${String(stderr).trim() || error.message}`))
        } else {
          resolve()
        }
      }
    )
  })

// Own config files keep the result independent of the distribution's openssl.cnf,
// whose `v3_ca`/`usr_cert` defaults differ between systems.
const caConfig = `[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = tollgate throwaway test CA
O = tollgate conformance
[v3_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`

const leafConfig = (hosts: ReadonlyArray<string>): string => `[req]
distinguished_name = dn
prompt = no
[dn]
CN = ${hosts[0]}
O = tollgate conformance
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = @alt
[alt]
${hosts.map((host, i) => `DNS.${i + 1} = ${host}`).join("\n")}
`

/**
 * Generates a CA and a leaf certificate whose subjectAltName lists every host,
 * writing them (mode 0600) into `dir`, a temporary directory the caller owns
 * and removes.
 */
export const generateCertificates = async (dir: string, hosts: ReadonlyArray<string>): Promise<Certificates> => {
  if (hosts.length === 0) throw new Error("generateCertificates: at least one host is required")
  for (const host of hosts) {
    if (!HOSTNAME.test(host)) throw new Error(`generateCertificates: not a DNS name: ${JSON.stringify(host)}`)
  }

  const caConfigPath = join(dir, "ca.cnf")
  const leafConfigPath = join(dir, "leaf.cnf")
  const caKeyPath = join(dir, "ca-key.pem")
  const caCertPath = join(dir, "ca.pem")
  const leafKeyPath = join(dir, "leaf-key.pem")
  const leafCsrPath = join(dir, "leaf.csr")
  const leafCertPath = join(dir, "leaf.pem")

  await writeFile(caConfigPath, caConfig, { mode: 0o600 })
  await writeFile(leafConfigPath, leafConfig(hosts), { mode: 0o600 })

  // EC P-256: key generation takes milliseconds, RSA takes noticeably longer.
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  await openssl(
    [
      "req",
      "-x509",
      "-new",
      ...ecKey,
      "-keyout",
      caKeyPath,
      "-out",
      caCertPath,
      "-days",
      VALIDITY_DAYS,
      "-sha256",
      "-config",
      caConfigPath
    ],
    dir
  )
  await openssl(["req", "-new", ...ecKey, "-keyout", leafKeyPath, "-out", leafCsrPath, "-config", leafConfigPath], dir)
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      leafCsrPath,
      "-CA",
      caCertPath,
      "-CAkey",
      caKeyPath,
      // An explicit random serial avoids the `.srl` file `-CAcreateserial` would leave behind.
      "-set_serial",
      `0x${randomBytes(16).toString("hex").replace(/^./, "1")}`,
      "-out",
      leafCertPath,
      "-days",
      VALIDITY_DAYS,
      "-sha256",
      "-extfile",
      leafConfigPath,
      "-extensions",
      "v3_leaf"
    ],
    dir
  )

  await rm(leafCsrPath, { force: true })
  await Promise.all([caKeyPath, caCertPath, leafKeyPath, leafCertPath].map((path) => chmod(path, 0o600)))

  const [caPem, leafCertPem, leafKeyPem] = await Promise.all([
    readFile(caCertPath, "utf8"),
    readFile(leafCertPath, "utf8"),
    readFile(leafKeyPath, "utf8")
  ])
  return { caCertPath, caKeyPath, leafCertPath, leafKeyPath, caPem, leafCertPem, leafKeyPem }
}
