import { describe, expect, it } from 'vitest';
import { refusedOffer } from './call-media.js';

const offer = (media: string[]) => `${['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...media].join('\r\n')}\r\n`;

describe(refusedOffer.name, () => {
  it('takes audio with any codec rtpengine can send, beside ones it only decodes or video', () => {
    expect(refusedOffer(offer(['m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000']))).toBeUndefined();
    expect(refusedOffer(offer(['m=audio 4000 RTP/AVP 96 8', 'a=rtpmap:96 AMR-WB/16000']))).toBeUndefined();
    expect(refusedOffer(offer(['m=audio 4000 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2', 'm=video 4002 RTP/AVP 96']))).toBeUndefined();
    expect(refusedOffer(offer(['m=audio 4000 RTP/AVP 18']))).toBeUndefined();
  });

  it('refuses with 488 an offer with no audio (T.38 fax alone, declined audio) or with only codecs it cannot send', () => {
    const fax = refusedOffer(offer(['m=image 4000 udptl t38']));
    expect(fax).toMatchObject({ sipStatus: 488, sipWarnCode: 304 });
    expect(refusedOffer(offer(['m=audio 0 RTP/AVP 0', 'm=video 4002 RTP/AVP 96']))).toMatchObject({ sipStatus: 488, sipWarnCode: 304 });
    const amr = refusedOffer(offer(['m=audio 4000 RTP/AVP 96 101', 'a=rtpmap:96 AMR-WB/16000', 'a=rtpmap:101 telephone-event/16000']));
    expect(amr).toMatchObject({ sipStatus: 488, sipWarnCode: 305 });
    expect(amr?.message).toMatch(/offered: AMR-WB;/);
  });
});
