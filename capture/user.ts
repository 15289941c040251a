/**
 * Whom tcpdump runs as, and who owns the capture directory. Pure: decided from the environment and
 * the effective user id.
 *
 * - Through sudo (root, SUDO_USER a real account): tcpdump drops to that user with -Z once the
 *   interface is open, and the directory and every file belong to that user, who can read them
 *   without sudo and stop the capture's files from being root's.
 * - Plain root (no SUDO_USER): `-Z root`. Many tcpdump builds (Debian, Ubuntu, Fedora) otherwise
 *   switch to a `tcpdump` system user, which cannot write in a root-only 0700 directory and would,
 *   if given the directory, own customer data. With -w tcpdump parses no packet contents (it copies
 *   them to disk), so keeping root costs little; the files stay readable by root only.
 * - Not root (tcpdump with capabilities): no -Z (tcpdump only switches users when it is root).
 */

export interface RunAs {
  /** The -Z argument, or null for none. */
  user: string | null;
  /** Owner to give the directory and Periscope's own files (manifest, pid file), or null to keep ours. */
  uid: number | null;
  gid: number | null;
  /** One line for the docs, status and manifest. */
  why: 'sudo' | 'root' | 'not-root';
}

export function runAs(env: NodeJS.ProcessEnv, euid: number | null): RunAs {
  if (euid !== 0) return { user: null, uid: null, gid: null, why: 'not-root' };
  const name = env.SUDO_USER;
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (name && name !== 'root' && Number.isInteger(uid) && uid > 0 && Number.isInteger(gid) && gid >= 0 && env.SUDO_UID !== '' && env.SUDO_GID !== '') {
    return { user: name, uid, gid, why: 'sudo' };
  }
  return { user: 'root', uid: null, gid: null, why: 'root' };
}

/** For the pcap stream (`periscope live`): no files, so tcpdump may drop to its own default user. */
export function streamUser(env: NodeJS.ProcessEnv, euid: number | null): string | null {
  const r = runAs(env, euid);
  return r.why === 'sudo' ? r.user : null;
}

/** The owner to give files Periscope creates, or null to leave them as they are. */
export function ownerOf(who: RunAs): { uid: number; gid: number } | null {
  return who.uid !== null && who.gid !== null ? { uid: who.uid, gid: who.gid } : null;
}
