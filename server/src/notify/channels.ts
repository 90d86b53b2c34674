/** The channel registry: picks the implementation by `kind`. */
import type { ChannelConfig } from '../config/schema.ts';
import type { ChannelContext, NotificationChannel } from './channel.ts';
import { createConsoleChannel } from './console-channel.ts';
import { createGsmModemChannel } from './channels/gsm-modem/modem-channel.ts';
import { createHttpGatewayChannel } from './channels/http-gateway-channel.ts';
import { createSirenChannel } from './channels/siren-channel.ts';
import { createSmtpChannel } from './channels/smtp-channel.ts';
import { createWebhookChannel } from './webhook-channel.ts';

/** Creates the channel for one config entry (no I/O: ports and sockets open on first use). */
export function createChannel(config: ChannelConfig, ctx: ChannelContext): NotificationChannel {
  switch (config.kind) {
    case 'console':
      return createConsoleChannel(config, ctx);
    case 'webhook':
      return createWebhookChannel(config, ctx);
    case 'gsm-modem':
      return createGsmModemChannel(config, ctx);
    case 'http-gateway':
      return createHttpGatewayChannel(config, ctx);
    case 'smtp':
      return createSmtpChannel(config, ctx);
    case 'siren':
      return createSirenChannel(config, ctx);
  }
}
