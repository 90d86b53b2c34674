/** The channel registry: picks the implementation by `kind`. */
import type { ChannelConfig } from '../config/schema.ts';
import type { ChannelContext, NotificationChannel } from './channel.ts';
import { createConsoleChannel } from './console-channel.ts';
import { createWebhookChannel } from './webhook-channel.ts';

/** Creates the channel for one config entry. */
export function createChannel(config: ChannelConfig, ctx: ChannelContext): NotificationChannel {
  switch (config.kind) {
    case 'console':
      return createConsoleChannel(config, ctx);
    case 'webhook':
      return createWebhookChannel(config, ctx);
  }
}
