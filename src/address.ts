/**
 * The one parser of a listen address: `host:port`, `http://host:port[/]` or `[v6]:port` (a zone id allowed). Used by
 * the conf file (ock.mmc.meta_service.metrics_url) and by `mmc serve --listen`.
 */

/** A refused address; the message never repeats the value (a conf file may be a secret's). */
export class BadAddress extends Error {
  /** The port when the refusal is its range; undefined when the form is wrong. */
  readonly port?: number;
  constructor(message: string, port?: number) {
    super(message);
    if (port !== undefined) this.port = port;
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AddressForms {
  /** The host of `:port` (no host); without it such an address is refused. */
  emptyHost?: string;
  /** Accept `https://` too (and surrounding blanks, and several trailing slashes). */
  lenient?: boolean;
}

/** `v` as host and port; BadAddress when it is none of the forms or the port is over 65535. */
export function parseAddress(v: string, forms: AddressForms = {}): ListenAddress {
  const s = forms.lenient
    ? v.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '')
    : v.replace(/^http:\/\//i, '').replace(/\/$/, '');
  const m = /^(?:\[([0-9A-Za-z:.%]+)\]|([A-Za-z0-9._-]*)):(\d+)$/.exec(s);
  const host = m === null ? undefined : (m[1] ?? (m[2] || forms.emptyHost));
  if (m === null || host === undefined) throw new BadAddress('expected host:port or http://host:port');
  const port = Number(m[3]);
  if (!Number.isSafeInteger(port) || port > 65535) throw new BadAddress('port must be 0..65535', port);
  return { host, port };
}
