import { describe, expect, it } from 'vitest';
import { clientErrorCode, originOf } from './client-error.ts';
import { edgeHeaders } from './edge-headers.ts';

const error = (code: string) => Object.assign(new Error(code), { code });

describe('clientErrorCode', () => {
  it('maps a timeout to 408, oversized headers to 431, any other parser error to 400', () => {
    expect(clientErrorCode(error('ERR_HTTP_REQUEST_TIMEOUT'))).toBe('REQUEST_TIMEOUT');
    expect(clientErrorCode(error('HPE_HEADER_OVERFLOW'))).toBe('HEADERS_TOO_LARGE');
    expect(clientErrorCode(error('HPE_INVALID_METHOD'))).toBe('BAD_REQUEST');
    expect(clientErrorCode(error('HPE_UNEXPECTED_CONTENT_LENGTH'))).toBe('BAD_REQUEST');
    expect(clientErrorCode(new Error('no code'))).toBe('BAD_REQUEST');
  });
});

describe('originOf', () => {
  const packet = (text: string) => Buffer.from(text, 'latin1');

  it('reads the Origin header of the refused request, whatever its case and spacing', () => {
    expect(originOf(packet('GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n'))).toBe(
      'https://a.example',
    );
    expect(originOf(packet('GET / HTTP/1.1\r\norigin:\thttps://b.example  \r\nX: y\r\n\r\n'))).toBe(
      'https://b.example',
    );
  });

  it('reads nothing from the body, nor from bytes that are not a packet', () => {
    expect(
      originOf(packet('POST / HTTP/1.1\r\nHost: x\r\n\r\nOrigin: https://body.example\r\n')),
    ).toBeUndefined();
    expect(originOf(undefined)).toBeUndefined();
    expect(originOf({ type: 'Buffer', data: [] })).toBeUndefined();
  });

  it('finds it in headers cut off by the size limit', () => {
    expect(
      originOf(packet(`GET / HTTP/1.1\r\nOrigin: https://c.example\r\nX-Big: ${'a'.repeat(20_000)}`)),
    ).toBe('https://c.example');
  });
});

describe('edgeHeaders', () => {
  const headers = edgeHeaders({ isProduction: true, corsOrigins: ['https://app.example'] });

  it("are helmet's security headers, with HSTS in production", () => {
    const sent = headers(undefined);
    expect(sent['Content-Security-Policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(sent['X-Content-Type-Options']).toBe('nosniff');
    expect(sent['Strict-Transport-Security']).toContain('max-age=31536000');
    expect(sent['Access-Control-Allow-Origin']).toBeUndefined();
    expect(
      edgeHeaders({ isProduction: false, corsOrigins: [] })(undefined)['Strict-Transport-Security'],
    ).toBe(undefined);
  });

  it('add CORS for an allowed origin only', () => {
    expect(headers('https://app.example')).toMatchObject({
      'Access-Control-Allow-Origin': 'https://app.example',
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    });
    expect(headers('https://evil.example')['Access-Control-Allow-Origin']).toBeUndefined();
    expect(headers('null')['Access-Control-Allow-Origin']).toBeUndefined();
  });
});
