import QRCode from 'qrcode';

/**
 * A QR code as an SVG drawn from the code's module matrix (no data: URL, no innerHTML: the strict
 * CSP stays as it is). Loaded lazily with the authenticator setup.
 */
export default function QrCode({ text, label }: { text: string; label: string }) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = modules.size;
  let path = '';
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (modules.get(y, x)) path += `M${x + 4} ${y + 4}h1v1h-1z`;
  const box = size + 8; // 4 modules of quiet zone on each side
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${box} ${box}`}
      width={Math.max(192, box * 4)}
      height={Math.max(192, box * 4)}
      shapeRendering="crispEdges"
    >
      <rect width={box} height={box} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
