// The test's authenticator app: it holds the key a person reads off the setup page and
// computes its codes as a phone app would (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits).
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function decodeBase32(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = '';
  for (const c of clean) {
    const v = BASE32.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export class Authenticator {
  /** The app after typing `key` (base32, spaces allowed). */
  constructor(key) {
    this.secret = decodeBase32(key);
  }

  /** The code for Unix time `seconds`. */
  codeAt(seconds) {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
    const mac = createHmac('sha1', this.secret).update(counter).digest();
    const offset = mac[mac.length - 1] & 0x0f;
    const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
    return String(value).padStart(6, '0');
  }

  /** The code shown now. */
  code() {
    return this.codeAt(Date.now() / 1000);
  }

  /** The next step's code (accepted too: one step of clock skew either way). */
  nextCode() {
    return this.codeAt(Date.now() / 1000 + 30);
  }
}
