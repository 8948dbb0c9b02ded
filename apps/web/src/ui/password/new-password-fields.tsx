import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { checkPassword, PASSWORD_MAX, PASSWORD_MIN } from './password-rules.ts';

/**
 * A new password (sign-up, reset) with the server's rules shown, and met or not announced, before
 * submitting; with `confirm`, a second field that must match. `acceptable` says whether to submit.
 */
export function useNewPassword(
  password: string,
  options: { username?: string; confirm?: string | undefined } = {},
) {
  const rules = checkPassword(password, options.username ?? '');
  const same = options.confirm === undefined || (password !== '' && password === options.confirm);
  return {
    rules,
    same,
    acceptable: rules.longEnough && rules.notTooLong && rules.notUsername && same,
  };
}

export function NewPasswordFields({
  label,
  password,
  onPassword,
  username,
  confirmLabel,
  confirm,
  onConfirm,
  touched,
}: {
  label: string;
  password: string;
  onPassword: (value: string) => void;
  /** Sign-up: the password may not be the username. */
  username?: string;
  /** A second field that must match (reset). */
  confirmLabel?: string;
  confirm?: string;
  onConfirm?: (value: string) => void;
  /** After a first submit: the fields that break a rule are marked invalid. */
  touched: boolean;
}) {
  const { t } = useTranslation();
  const ids = { password: useId(), confirm: useId(), rules: useId() };
  const withConfirm = confirm !== undefined;
  const { rules, same } = useNewPassword(password, { username, confirm });
  const rule = (met: boolean, text: string) => (
    <li className={met ? 'rule met' : 'rule'}>
      <span aria-hidden="true">{met ? '✓' : '•'}</span> {text}{' '}
      <span className="visually-hidden">{met ? t('signup.ruleMet') : t('signup.ruleNotMet')}</span>
    </li>
  );
  const list = (
    <ul id={ids.rules} className="rules">
      {rule(rules.longEnough, t('signup.ruleLength', { min: PASSWORD_MIN }))}
      {username !== undefined && rule(rules.notUsername, t('signup.ruleNotUsername'))}
      {withConfirm && rule(same, t('account.reset.ruleMatch'))}
      <li className="rule">
        <span aria-hidden="true">•</span> {t('signup.ruleCommon')}
      </li>
    </ul>
  );
  const input = (id: string, name: string, value: string, set: (v: string) => void, invalid: boolean) => (
    <input
      id={id}
      name={name}
      type="password"
      autoComplete="new-password"
      required
      maxLength={PASSWORD_MAX}
      value={value}
      onChange={(e) => set(e.target.value)}
      aria-invalid={touched && invalid}
      aria-describedby={ids.rules}
    />
  );
  return (
    <>
      <div className="field">
        <label htmlFor={ids.password}>{label}</label>
        {input(
          ids.password,
          'password',
          password,
          onPassword,
          !(rules.longEnough && rules.notTooLong && rules.notUsername),
        )}
        {!withConfirm && list}
      </div>
      {withConfirm && (
        <div className="field">
          <label htmlFor={ids.confirm}>{confirmLabel}</label>
          {input(ids.confirm, 'confirm', confirm, onConfirm ?? (() => undefined), !same)}
          {list}
        </div>
      )}
    </>
  );
}
