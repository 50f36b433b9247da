/** Reason phrases for the final statuses the B2BUA sends (a dialplan `hangup` may pick any 4xx-6xx). */
const PHRASES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  410: 'Gone',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

const CLASS: Record<number, string> = { 4: 'Request Failure', 5: 'Server Failure', 6: 'Global Failure' };

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? CLASS[Math.floor(status / 100)] ?? 'Unknown';
}
