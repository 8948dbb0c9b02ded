/** Every kind of mail Kith sends, with the values its template needs. */
export interface MailKinds {
  /** After sign-up (and on resend): the link that proves the address. */
  email_verify: { username: string; link: string };
  /** A reset was asked for: the link that sets a new password (30 minutes). */
  password_reset: { username: string; link: string };
  /** A moderator decided on a report about the user: what, why, and the link to read and appeal it. */
  moderation_notice: {
    username: string;
    action: string;
    targetType: string;
    reasons: string;
    note: string;
    until: string;
    excerpt: string;
    link: string;
  };
  /** The password was reset: a notice, so an owner who did not ask knows at once. */
  password_changed: { username: string };
  /** A change of address was asked for: the link (to the new address) that confirms it (24 hours). */
  email_change_confirm: { username: string; link: string };
  /** The address was changed: told to the old one, with the link that undoes it (7 days). */
  email_changed: { username: string; newEmail: string; link: string };
  /** Someone asked to move another account to this address, which is already an account's. */
  email_in_use: { username: string };
  /** A session started from a device (browser family, OS, network) not seen before. */
  new_sign_in: { username: string; device: string; network: string; at: string; link: string };
}

export type MailKind = keyof MailKinds;
export const MAIL_KINDS = [
  'email_verify',
  'password_reset',
  'password_changed',
  'moderation_notice',
  'new_sign_in',
  'email_change_confirm',
  'email_changed',
  'email_in_use',
] as const;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** A transactional message: paragraphs of text (values already in), an optional button link. */
function layout(
  subject: string,
  paragraphs: string[],
  action?: { label: string; href: string },
): RenderedMail {
  const text = [...paragraphs, ...(action ? [`${action.label}: ${action.href}`] : []), '— Kith'].join('\n\n');
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = action
    ? `<p><a href="${escapeHtml(action.href)}" style="display:inline-block;padding:10px 16px;background:#2457d6;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(action.label)}</a></p>\n<p style="font-size:12px;color:#555">${escapeHtml(action.href)}</p>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">
${body}
${button}
<p>— Kith</p>
</body></html>
`;
  return { subject, text, html };
}

const TEMPLATES: { [K in MailKind]: (data: MailKinds[K]) => RenderedMail } = {
  moderation_notice: ({ username, action, targetType, reasons, note, until, excerpt, link }) =>
    layout(
      action === 'overturn' ? 'A moderation decision was reversed' : 'A moderator acted on your Kith account',
      [
        `Hello ${username},`,
        ...moderationLines(action, targetType, until),
        ...(excerpt ? [`What was reported: “${excerpt}”`] : []),
        `Reported for: ${reasons}.`,
        ...(note ? [`The moderator's reason: ${note}`] : []),
        action === 'uphold' || action === 'overturn'
          ? 'This was the decision on your appeal; it is final.'
          : 'If you think this is a mistake, you can appeal once from the page below; another moderator will review it.',
      ],
      { label: 'Read the decision', href: link },
    ),
  email_verify: ({ username, link }) =>
    layout(
      'Confirm your e-mail address',
      [
        `Hello ${username},`,
        'Please confirm that this address belongs to your Kith account. The link works once, for 24 hours.',
        'If you did not sign up for Kith, ignore this message.',
      ],
      { label: 'Confirm my address', href: link },
    ),
  password_reset: ({ username, link }) =>
    layout(
      'Reset your Kith password',
      [
        `Hello ${username},`,
        'Someone asked to reset the password of your Kith account. The link works once, for 30 minutes.',
        'If it was not you, ignore this message: your password stays as it is.',
      ],
      { label: 'Choose a new password', href: link },
    ),
  password_changed: ({ username }) =>
    layout('Your Kith password was changed', [
      `Hello ${username},`,
      'The password of your Kith account was just reset, and every device was signed out.',
      'If you did not do this, reset your password again at once and tell us.',
    ]),
  email_change_confirm: ({ username, link }) =>
    layout(
      'Confirm your new e-mail address',
      [
        `Hello ${username},`,
        'You asked to use this address for your Kith account. The link works once, for 24 hours; until you follow it, your account keeps its old address.',
        'If you did not ask for this, ignore this message.',
      ],
      { label: 'Use this address', href: link },
    ),
  email_changed: ({ username, newEmail, link }) =>
    layout(
      'The e-mail address of your Kith account was changed',
      [
        `Hello ${username},`,
        `Your Kith account now uses the address ${newEmail}; this address no longer receives its mail.`,
        'If you did not do this, undo it with the link below within 7 days: your old address comes back and every device is signed out. Then choose a new password.',
      ],
      { label: 'Undo this change', href: link },
    ),
  email_in_use: ({ username }) =>
    layout('Someone tried to use your address on Kith', [
      `Hello ${username},`,
      'Someone asked to move another Kith account to this address. It stays yours: nothing was changed, and the other account was not told that this address is taken.',
      'If it was you, sign in to the account that has this address instead.',
    ]),
  new_sign_in: ({ username, device, network, at, link }) =>
    layout(
      'New sign-in to your Kith account',
      [
        `Hello ${username},`,
        `Your account was just signed in to from a device we had not seen: ${device}, network ${network}, at ${at} (UTC).`,
        'If this was you, there is nothing to do. If not, sign that session out and change your password.',
      ],
      { label: 'Review my sessions', href: link },
    ),
};

/** Renders one kind's template; user values are escaped in the HTML part. */
export function renderMail<K extends MailKind>(kind: K, data: MailKinds[K]): RenderedMail {
  return TEMPLATES[kind](data);
}

/** What a moderation decision did, in words (the notice mail). */
function moderationLines(action: string, targetType: string, until: string): string[] {
  const what = targetType === 'user' ? 'your account' : `your ${targetType}`;
  switch (action) {
    case 'remove':
      return [`A moderator removed ${what} after it was reported.`];
    case 'warn':
      return [`A moderator reviewed a report about ${what} and is giving you a warning.`];
    case 'suspend':
      return [
        `A moderator suspended your account until ${until} (UTC) after a report about ${what}. Until then you can read Kith but not post, comment or send messages.`,
      ];
    case 'ban':
      return [`A moderator banned your account after a report about ${what}.`];
    case 'uphold':
      return ['Another moderator reviewed your appeal and kept the decision.'];
    default:
      return ['Another moderator reviewed your appeal and reversed the decision.'];
  }
}
