import { useEffect, useRef, useState } from 'react';
import { type Invitation, Inviter, Registerer, RegistererState, type Session, SessionState, UserAgent, Web } from 'sip.js';
import { ApiError, get, post, put } from '../api.tsx';
import { ErrorBox, PageHeader, earlierCalls, fmtDateTime, fmtDuration } from '../ui.tsx';

/** Mirrors server/pbx/softphone.routes.ts (IssuedSoftphoneCredentials). */
interface Credentials {
  extension: string;
  username: string;
  password: string;
  realm: string;
  wsUrl: string;
  expiresAt: string;
}

/** Mirrors server/pbx/live-board.ts (LiveCallInfo): the screen pop. */
interface ScreenPop {
  callId: string;
  caller: string;
  trackingNumber: string;
  source?: string | null;
  medium?: string | null;
  campaign?: string | null;
  keyword?: string | null;
  landingPage?: string | null;
  firstTime?: boolean | null;
  priorCalls?: number;
}

interface EarlierCall {
  id: string;
  startedAt: string;
  disposition: string | null;
  durationSeconds: number | null;
  channel: { source: string | null; campaign: string | null };
}

type PhoneState = 'off' | 'connecting' | 'ready' | 'failed';
type CallState = 'ringing' | 'dialing' | 'talking' | 'held';

/** Fresh credentials before they run out: issued ones admit new REGISTERs for 10 minutes. */
const REFRESH_MS = 4 * 60_000;
const CALL_ID_HEADER = 'X-CallTrack-Call-Id';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

/**
 * The agent's browser softphone (SIP.js over WebSocket, media through rtpengine as WebRTC). Signs in
 * to SIP with short-lived credentials from the HTTP session, never a stored password. An incoming
 * call shows where the caller came from (the screen pop) before it is answered.
 */
export function PhonePage() {
  const [state, setState] = useState<PhoneState>('off');
  const [error, setError] = useState<Error | undefined>();
  const [extension, setExtension] = useState<string | undefined>();
  const [call, setCall] = useState<{ session: Session; state: CallState; caller: string; muted: boolean } | undefined>();
  const [pop, setPop] = useState<ScreenPop | undefined>();
  const [earlier, setEarlier] = useState<EarlierCall[]>([]);
  const [transferTo, setTransferTo] = useState('');
  /** The consultation call of an attended transfer, while the first call waits on hold. */
  const [consult, setConsult] = useState<{ session: Inviter; target: string; talking: boolean } | undefined>();
  const [dialTo, setDialTo] = useState('');
  const [agentStatus, setAgentStatus] = useState<'available' | 'paused' | undefined>();
  const [, tick] = useState(0);
  const since = useRef<number>(0);
  const ua = useRef<UserAgent | undefined>(undefined);
  const registerer = useRef<Registerer | undefined>(undefined);
  const audio = useRef<HTMLAudioElement>(null);

  useEffect(
    () => () => {
      void registerer.current?.unregister().catch(() => undefined);
      void ua.current?.stop();
    },
    [],
  );
  useEffect(() => {
    if (!call || call.state === 'ringing') return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [call]);

  function attachMedia(session: Session): void {
    const handler = session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
    if (!handler || !audio.current) return;
    const stream = new MediaStream();
    for (const receiver of handler.peerConnection?.getReceivers() ?? []) if (receiver.track) stream.addTrack(receiver.track);
    audio.current.srcObject = stream;
    void audio.current.play().catch(() => undefined);
  }

  function follow(session: Session, caller: string, initial: CallState = 'ringing'): void {
    setCall({ session, state: initial, caller, muted: false });
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        since.current = Date.now();
        attachMedia(session);
        setCall((c) => (c && c.session === session ? { ...c, state: 'talking' } : c));
      } else if (s === SessionState.Terminated) {
        setCall((c) => (c && c.session === session ? undefined : c));
      }
    });
  }

  async function onInvite(invitation: Invitation): Promise<void> {
    const caller = invitation.remoteIdentity.uri.user ?? 'unknown';
    follow(invitation, caller);
    setPop(undefined);
    setEarlier([]);
    const callId = invitation.request.getHeader(CALL_ID_HEADER);
    if (callId) setPop(await get<ScreenPop>(`/v1/live/calls/${encodeURIComponent(callId)}`).catch(() => undefined));
    const calls = await get<{ items: EarlierCall[] }>(`/v1/calls?caller=${encodeURIComponent(caller)}&limit=5`).catch(() => ({ items: [] }));
    setEarlier(calls.items);
  }

  async function connect(): Promise<void> {
    setError(undefined);
    setState('connecting');
    try {
      const creds = await post<Credentials>('/v1/softphone/credentials');
      setExtension(creds.extension);
      const agent = new UserAgent({
        uri: UserAgent.makeURI(`sip:${creds.extension}@${creds.realm}`),
        authorizationUsername: creds.username,
        authorizationPassword: creds.password,
        transportOptions: { server: creds.wsUrl },
        logLevel: 'warn',
        sessionDescriptionHandlerFactoryOptions: { iceGatheringTimeout: 500, peerConnectionConfiguration: { iceServers: [] } },
        delegate: { onInvite: (invitation) => void onInvite(invitation) },
      });
      await agent.start();
      const reg = new Registerer(agent, { expires: 300 });
      reg.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) setState('ready');
        else if (s === RegistererState.Unregistered || s === RegistererState.Terminated) setState((p) => (p === 'ready' ? 'failed' : p));
      });
      await reg.register({
        requestDelegate: {
          onReject: (response) => {
            setState('failed');
            setError(new Error(`The server refused the registration: ${response.message.statusCode} ${response.message.reasonPhrase}`));
          },
        },
      });
      ua.current = agent;
      registerer.current = reg;
      // Refresh before the issued credentials run out (re-registrations authenticate again).
      const timer = setInterval(async () => {
        const fresh = await post<Credentials>('/v1/softphone/credentials').catch(() => undefined);
        if (!fresh || ua.current !== agent) return clearInterval(timer);
        agent.configuration.authorizationUsername = fresh.username;
        agent.configuration.authorizationPassword = fresh.password;
        await reg.register().catch(() => undefined);
      }, REFRESH_MS);
    } catch (err) {
      setState('failed');
      setError(err instanceof ApiError || err instanceof Error ? err : new Error(String(err)));
    }
  }

  async function disconnect(): Promise<void> {
    await registerer.current?.unregister().catch(() => undefined);
    await ua.current?.stop();
    ua.current = undefined;
    registerer.current = undefined;
    setState('off');
  }

  async function answer(): Promise<void> {
    const session = call?.session as Invitation | undefined;
    await session?.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  }
  async function hangUp(): Promise<void> {
    const session = call?.session;
    if (!session) return;
    if (session.state === SessionState.Established) await session.bye();
    else if (session instanceof Inviter) await session.cancel();
    else await (session as Invitation).reject();
  }
  async function toggleHold(): Promise<void> {
    if (!call) return;
    const hold = call.state !== 'held';
    await call.session.invite({ sessionDescriptionHandlerModifiers: hold ? [Web.holdModifier] : [] });
    setCall({ ...call, state: hold ? 'held' : 'talking' });
  }
  function toggleMute(): void {
    if (!call) return;
    const handler = call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
    for (const sender of handler?.peerConnection?.getSenders() ?? []) if (sender.track) sender.track.enabled = call.muted;
    setCall({ ...call, muted: !call.muted });
  }
  function dtmf(key: string): void {
    call?.session.sessionDescriptionHandler?.sendDtmf(key);
  }
  /** An extension, a group, a number or a SIP address, as a URI in our domain when it has no host. */
  function targetUri(text: string) {
    const target = text.trim();
    const uri = UserAgent.makeURI(target.includes(':') ? target : `sip:${target}@${ua.current?.configuration.uri.host}`);
    if (!uri) setError(new Error(`Not a number or SIP address: ${text}`));
    return uri;
  }
  /** A call placed from this browser (the server asks for the same short-lived credentials as REGISTER). */
  function invite(target: string): Inviter | undefined {
    const uri = targetUri(target);
    if (!uri || !ua.current) return undefined;
    const inviter = new Inviter(ua.current, uri, { sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    inviter.invite().catch((err: unknown) => setError(err as Error));
    return inviter;
  }
  function dial(): void {
    if (call || !dialTo.trim()) return;
    setPop(undefined);
    setEarlier([]);
    const inviter = invite(dialTo);
    if (inviter) follow(inviter, dialTo.trim(), 'dialing');
  }
  async function transfer(): Promise<void> {
    if (!call || !transferTo.trim()) return;
    const uri = targetUri(transferTo);
    if (uri) await call.session.refer(uri);
  }
  /** Attended transfer, first step: the caller waits on hold while the agent talks to the colleague. */
  async function startConsult(): Promise<void> {
    if (!call || consult || !transferTo.trim()) return;
    if (call.state !== 'held') await toggleHold();
    const inviter = invite(transferTo);
    if (!inviter) return;
    setConsult({ session: inviter, target: transferTo.trim(), talking: false });
    inviter.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        attachMedia(inviter);
        setConsult((c) => (c && c.session === inviter ? { ...c, talking: true } : c));
      } else if (s === SessionState.Terminated) {
        setConsult((c) => (c && c.session === inviter ? undefined : c));
      }
    });
  }
  /** REFER with Replaces: the server connects the caller to the colleague and hangs up both our calls. */
  async function completeTransfer(): Promise<void> {
    if (!call || !consult?.talking) return;
    await call.session.refer(consult.session);
  }
  async function cancelConsult(): Promise<void> {
    if (!consult) return;
    const session = consult.session;
    setConsult(undefined);
    if (session.state === SessionState.Established) await session.bye();
    else await session.cancel().catch(() => undefined);
    if (call?.state === 'held') {
      await call.session.invite({ sessionDescriptionHandlerModifiers: [] });
      setCall({ ...call, state: 'talking' });
      attachMedia(call.session);
    }
  }
  async function setStatus(status: 'available' | 'paused'): Promise<void> {
    if (!extension) return;
    try {
      await put(`/v1/agents/${encodeURIComponent(extension)}/status`, { status });
      setAgentStatus(status);
    } catch (err) {
      setError(err as Error);
    }
  }

  return (
    <>
      <PageHeader title="Phone">
        {state === 'off' || state === 'failed' ? (
          <button type="button" onClick={() => void connect()}>
            Connect phone
          </button>
        ) : (
          <button type="button" className="secondary" onClick={() => void disconnect()}>
            Disconnect
          </button>
        )}
      </PageHeader>
      <p className="muted" aria-live="polite" data-testid="phone-state">
        {state === 'off' && 'The phone is off. Connect to take calls in this browser.'}
        {state === 'connecting' && 'Connecting…'}
        {state === 'ready' && `Ready: extension ${extension}`}
        {state === 'failed' && 'Not connected.'}
      </p>
      <ErrorBox error={error} />
      {state === 'ready' && extension && (
        <p>
          Queues: <strong>{agentStatus ?? 'as set'}</strong>{' '}
          <button type="button" className="secondary" onClick={() => void setStatus('available')}>
            Available
          </button>{' '}
          <button type="button" className="secondary" onClick={() => void setStatus('paused')}>
            Pause
          </button>
        </p>
      )}
      <audio ref={audio} autoPlay />
      {state === 'ready' && !call && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            dial();
          }}
        >
          <label>
            Number to call (extension or phone number) <input value={dialTo} onChange={(e) => setDialTo(e.target.value)} placeholder="102" />
          </label>{' '}
          <button type="submit">Call</button>
        </form>
      )}
      {call && (
        <section className="card" aria-label="Call" data-testid="call-panel">
          <h2>
            {call.state === 'ringing' ? 'Incoming call' : call.state === 'dialing' ? 'Calling' : call.state === 'held' ? 'On hold' : 'On a call'}: {call.caller}
            {call.state !== 'ringing' && call.state !== 'dialing' && (
              <span className="muted"> {fmtDuration(Math.round((Date.now() - since.current) / 1000))}</span>
            )}
          </h2>
          {pop && (
            <dl className="screen-pop" data-testid="screen-pop">
              <dt>Called</dt>
              <dd>{pop.trackingNumber}</dd>
              <dt>Source</dt>
              <dd>{[pop.source, pop.medium].filter(Boolean).join(' / ') || 'unknown'}</dd>
              <dt>Campaign</dt>
              <dd>{pop.campaign ?? '—'}</dd>
              <dt>Keyword</dt>
              <dd>{pop.keyword ?? '—'}</dd>
              <dt>Landing page</dt>
              <dd>{pop.landingPage ?? '—'}</dd>
              <dt>Caller</dt>
              <dd>
                {pop.firstTime === false ? `Repeat caller (${earlierCalls(pop.priorCalls ?? 0)} earlier calls)` : pop.firstTime ? 'First-time caller' : '—'}
              </dd>
            </dl>
          )}
          {earlier.length > 0 && (
            <>
              <h3>Earlier calls</h3>
              <ul>
                {earlier.map((c) => (
                  <li key={c.id}>
                    {fmtDateTime(c.startedAt)}, {c.disposition ?? 'unknown'}, {fmtDuration(c.durationSeconds)}
                    {c.channel.source ? `, ${c.channel.source}` : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
          <p>
            {call.state === 'ringing' && (
              <button type="button" onClick={() => void answer()}>
                Answer
              </button>
            )}{' '}
            <button type="button" className="danger" onClick={() => void hangUp()}>
              {call.state === 'ringing' ? 'Decline' : call.state === 'dialing' ? 'Cancel' : 'Hang up'}
            </button>{' '}
            {(call.state === 'talking' || call.state === 'held') && !consult && (
              <>
                <button type="button" className="secondary" onClick={() => void toggleHold()}>
                  {call.state === 'held' ? 'Resume' : 'Hold'}
                </button>{' '}
                <button type="button" className="secondary" aria-pressed={call.muted} onClick={toggleMute}>
                  {call.muted ? 'Unmute' : 'Mute'}
                </button>
              </>
            )}
          </p>
          {consult && (
            <section aria-label="Consultation" data-testid="consult-panel">
              <p>
                {consult.talking ? 'Consulting' : 'Calling'} {consult.target}; the caller is on hold.
              </p>
              <button type="button" disabled={!consult.talking} onClick={() => void completeTransfer()}>
                Complete transfer
              </button>{' '}
              <button type="button" className="secondary" onClick={() => void cancelConsult()}>
                Cancel consult
              </button>
            </section>
          )}
          {(call.state === 'talking' || call.state === 'held') && !consult && (
            <>
              <fieldset className="keypad">
                <legend>Keypad</legend>
                {KEYS.map((k) => (
                  <button key={k} type="button" className="secondary" onClick={() => dtmf(k)}>
                    {k}
                  </button>
                ))}
              </fieldset>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void transfer();
                }}
              >
                <label>
                  Transfer to (extension, group or number) <input value={transferTo} onChange={(e) => setTransferTo(e.target.value)} placeholder="102" />
                </label>{' '}
                <button type="submit" className="secondary">
                  Transfer
                </button>{' '}
                <button type="button" className="secondary" onClick={() => void startConsult()}>
                  Consult
                </button>
              </form>
            </>
          )}
        </section>
      )}
    </>
  );
}
