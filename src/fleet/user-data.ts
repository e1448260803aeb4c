import { Secret } from "../config/secret.js";

// A JIT config is base64; anything else is refused rather than placed in a script.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The runner VM's user data: start the preinstalled runner once with its JIT config, then
 * power off (the launch sets shutdown behaviour to terminate). Interim renderer: the
 * cloud-init bootstrap with watchdogs and hardening replaces it (cloud-init/ issue). Only
 * the JIT config reaches the script, checked to be base64; no job field ever does.
 */
export function renderUserData(jitConfig: Secret): Secret {
  const config = jitConfig.reveal();
  if (!BASE64.test(config)) throw new TypeError("the JIT config is not base64");
  return new Secret(
    [
      "#!/bin/bash",
      "set -u",
      "cd /opt/actions-runner || shutdown -h now",
      `sudo -u runner ./run.sh --jitconfig '${config}'`,
      "shutdown -h now",
      "",
    ].join("\n"),
  );
}
