/**
 * Modem answers mapped to `NotifyError` codes. Numbers from 3GPP TS 27.005 §3.2.5 (`+CMS
 * ERROR`) and TS 27.007 §9.2 (`+CME ERROR`); 500 is "unknown error", which SIM800/SIM7600
 * modules answer for most send failures, no credit included.
 */
import { NotifyError } from '../../channel.ts';
import { AtError } from './at-session.ts';

/** CMS codes that mean the network cannot take the message now. */
const CMS_NO_NETWORK = new Set([30, 31, 38, 41, 42, 47, 330, 331, 332]);
/** CMS codes that mean the number is wrong (retrying cannot help). */
const CMS_BAD_NUMBER = new Set([1, 22, 28]);
/** CMS codes that mean the SIM is missing or locked. */
const CMS_NO_SIM = new Set([310, 313]);

export function modemError(err: unknown, what: string): NotifyError {
  if (err instanceof NotifyError) return err;
  if (!(err instanceof AtError)) {
    return new NotifyError('MODEM_PORT', `modem port failed during ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const at = `${err.kind} ${err.atCode}`;
  switch (err.kind) {
    case 'TIMEOUT':
      return new NotifyError('MODEM_TIMEOUT', `modem did not answer ${what}`, { cause: err });
    case 'CLOSED':
      return new NotifyError('MODEM_PORT', `modem port closed during ${what}`, { cause: err });
    case 'CME':
      if (err.atCode === 10 || err.atCode === 13 || err.atCode === 15) return new NotifyError('MODEM_NO_SIM', `SIM missing (${at})`, { cause: err });
      if (err.atCode === 11 || err.atCode === 12) return new NotifyError('MODEM_SIM_PIN', `SIM locked (${at})`, { cause: err, retryable: false });
      if (err.atCode === 30 || err.atCode === 31) return new NotifyError('MODEM_NO_NETWORK', `no network (${at})`, { cause: err });
      return new NotifyError('MODEM_ERROR', `modem error during ${what} (${at})`, { cause: err });
    case 'CMS':
      if (CMS_NO_NETWORK.has(err.atCode)) return new NotifyError('MODEM_NO_NETWORK', `no network (${at})`, { cause: err });
      if (CMS_BAD_NUMBER.has(err.atCode)) return new NotifyError('MODEM_BAD_NUMBER', `number refused (${at})`, { cause: err, retryable: false });
      if (CMS_NO_SIM.has(err.atCode)) return new NotifyError('MODEM_NO_SIM', `SIM missing (${at})`, { cause: err });
      if (err.atCode === 304 || err.atCode === 305 || err.atCode === 321) {
        return new NotifyError('MODEM_ERROR', `modem refused the message format or SIM index (${at})`, { cause: err, retryable: false });
      }
      // 21 (rejected), 500 (unknown: no credit on most modules), operator-specific 512+.
      return new NotifyError('MODEM_SEND_FAILED', `SMS not sent (${at}); check SIM credit`, { cause: err });
    case 'ERROR':
      return new NotifyError('MODEM_ERROR', `modem answered ERROR to ${what}`, { cause: err });
  }
}
