import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { guardReinvites, takeOverReinvites } from './reinvite-guard.js';

describe('re-INVITE guard', () => {
  it('answers 491 until the bridge takes the dialog over, so srf never answers a hold with our old SDP', () => {
    const dialog = new EventEmitter() as unknown as Srf.Dialog;
    guardReinvites(dialog);
    const sent: number[] = [];
    const res = { send: (status: number) => void sent.push(status) } as unknown as Srf.SrfResponse;
    dialog.emit('modify', {} as Srf.SrfRequest, res);
    expect(sent).toEqual([491]);
    takeOverReinvites(dialog);
    expect(dialog.listeners('modify')).toHaveLength(0);
  });
});
