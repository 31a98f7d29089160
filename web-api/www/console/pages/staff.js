// Staff accounts, roles and one's own password (seed 003 §3.7): GET/POST/PUT /admin/admins,
// GET/POST/PUT /admin/roles with the permissions of GET /admin/permissions, POST /admin/me/password.
import { html, useState } from '../../static/lib/preact.js';
import { has, t } from '../../static/lib/i18n.js';
import { Card, Checkbox, ErrorBox, Form, Input, Page, Select, Table, act, notify, useFetch } from '../../static/lib/ui.js';
import { api, operator, signOut } from '../api.js';
import { ActionDialog } from './listkit.js';

// ---- scope: every station, or chosen providers / properties / stations ------------------------

function useScopeChoices() {
  const providers = useFetch('/admin/providers', { limit: 500 });
  const properties = useFetch('/admin/properties', { limit: 500 });
  const stations = useFetch('/admin/stations', { limit: 500 });
  return {
    provider: providers.data?.providers || [],
    property: properties.data?.properties || [],
    station: stations.data?.stations || [],
  };
}

const SCOPE_KINDS = ['provider', 'property', 'station'];

// The form's scope from an account: {all, provider: Set, property: Set, station: Set}.
function scopeOf(a) {
  const s = { all: a ? !!a.all_stations : true, provider: [], property: [], station: [] };
  for (const e of a?.scope || []) if (s[e.kind]) s[e.kind].push(e.id);
  return s;
}

function ScopeFields({ scope, setScope, choices }) {
  const toggle = (kind, id, on) =>
    setScope({ ...scope, [kind]: on ? [...scope[kind], id] : scope[kind].filter((x) => x !== id) });
  return html`<fieldset class="scope">
    <legend>${t('staff.scope')}</legend>
    <${Checkbox} id="staff-all-stations" label=${t('staff.all_stations')} checked=${scope.all}
      onValue=${(v) => setScope({ ...scope, all: v })} />
    ${!scope.all && SCOPE_KINDS.map((kind) => choices[kind].length > 0 && html`<div class="scope-group">
      <div class="muted">${t(`staff.scope_${kind}`)}</div>
      ${choices[kind].map((x) => html`<${Checkbox} id=${`scope-${kind}-${x.id}`} label=${x.name}
        checked=${scope[kind].includes(x.id)} onValue=${(v) => toggle(kind, x.id, v)} />`)}
    </div>`)}
  </fieldset>`;
}

const scopeBody = (s) => (s.all
  ? { all_stations: true, provider_ids: [], property_ids: [], station_ids: [] }
  : { all_stations: false, provider_ids: s.provider, property_ids: s.property, station_ids: s.station });

function scopeText(a, choices) {
  if (a.all_stations) return t('staff.all_stations');
  const parts = (a.scope || []).map((e) => {
    const x = choices[e.kind]?.find((c) => c.id === e.id);
    return `${t(`staff.scope_${e.kind}`)}: ${x ? x.name : `#${e.id}`}`;
  });
  return parts.length ? parts.join('; ') : t('staff.no_scope');
}

// ---- staff accounts -------------------------------------------------------------------------

function AdminDialog({ account, roles, choices, onClose, onDone }) {
  const editing = !!account;
  const [username, setUsername] = useState(account?.username || '');
  const [displayName, setDisplayName] = useState(account?.display_name || '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState(account?.role || roles[0]?.name || '');
  const [enabled, setEnabled] = useState(account ? account.enabled : true);
  const [scope, setScope] = useState(scopeOf(account));
  return html`<${ActionDialog} id="staff-form" open=${true} onClose=${onClose}
      title=${editing ? t('staff.edit', { name: account.username }) : t('staff.create')} submitLabel=${t('common.save')}
      onSubmit=${async () => {
        const body = { role, display_name: displayName.trim(), ...scopeBody(scope) };
        if (password) body.password = password;
        const r = editing
          ? await act(() => api.put(`/admin/admins/${account.id}`, { ...body, enabled }), t('common.saved'))
          : await act(() => api.post('/admin/admins', { ...body, username: username.trim(), password }), t('staff.created'));
        if (r) onDone();
        return !!r;
      }}>
    ${!editing && html`<${Input} id="staff-username" label=${t('staff.username')} value=${username} onValue=${setUsername} required autocomplete="off" />`}
    <${Input} id="staff-display-name" label=${t('staff.display_name')} value=${displayName} onValue=${setDisplayName} />
    <${Input} id="staff-password" type="password" label=${editing ? t('staff.new_password_optional') : t('staff.password')}
      value=${password} onValue=${setPassword} required=${!editing} autocomplete="new-password" />
    <${Select} id="staff-role" label=${t('staff.role')} value=${role} onValue=${setRole}
      options=${roles.map((r) => ({ value: r.name, label: roleLabel(r.name) }))} />
    ${editing && html`<${Checkbox} id="staff-enabled" label=${t('common.enabled')} checked=${enabled} onValue=${setEnabled} />`}
    <${ScopeFields} scope=${scope} setScope=${setScope} choices=${choices} />
  </${ActionDialog}>`;
}

const roleLabel = (name) => (has(`staff.role_${name}`) ? `${t(`staff.role_${name}`)} (${name})` : name);

export function StaffPage() {
  const admins = useFetch('/admin/admins');
  const roles = useFetch('/admin/roles');
  const choices = useScopeChoices();
  const [dialog, setDialog] = useState(null); // {account} | {account: null}
  const roleList = roles.data?.roles || [];
  const setEnabled = async (a, enabled) => {
    const r = await act(() => api.put(`/admin/admins/${a.id}`, { enabled }), enabled ? t('staff.enabled_ok') : t('staff.disabled_ok'));
    if (r) admins.reload();
  };
  return html`<${Page} title=${t('staff.title')}
      actions=${html`<button type="button" class="primary" id="staff-new" onClick=${() => setDialog({ account: null })}>${t('staff.create')}</button>`}>
    <${ErrorBox} error=${admins.error} />
    <${Table} rows=${admins.data?.admins || []} empty=${admins.loading ? t('common.loading') : undefined} columns=${[
      { key: 'username', label: t('staff.username') },
      { key: 'display_name', label: t('staff.display_name') },
      { key: 'role', label: t('staff.role'), render: (a) => roleLabel(a.role) },
      { key: 'scope', label: t('staff.scope'), render: (a) => scopeText(a, choices) },
      { key: 'enabled', label: t('common.state'), render: (a) => html`<span class=${a.enabled ? 'badge badge-online' : 'badge badge-offline'}>${a.enabled ? t('common.enabled') : t('common.disabled')}</span>` },
      { key: 'actions', label: t('common.actions'), render: (a) => html`
        <button type="button" class="link" data-edit=${a.username} onClick=${() => setDialog({ account: a })}>${t('staff.edit_short')}</button>
        ${a.id !== operator()?.id && html`<button type="button" class="link" data-toggle=${a.username}
          onClick=${() => setEnabled(a, !a.enabled)}>${a.enabled ? t('staff.disable') : t('staff.enable')}</button>`}` },
    ]} />
    ${dialog && roleList.length > 0 && html`<${AdminDialog} account=${dialog.account} roles=${roleList} choices=${choices}
      onClose=${() => setDialog(null)} onDone=${admins.reload} />`}
  </${Page}>`;
}

// ---- roles: the permission matrix -------------------------------------------------------------

export function RolesPage() {
  const roles = useFetch('/admin/roles');
  const perms = useFetch('/admin/permissions');
  const [edits, setEdits] = useState({}); // role name -> permissions being edited
  const [creating, setCreating] = useState(false);
  const list = roles.data?.roles || [];
  const all = perms.data?.permissions || [];
  const holds = (r, p) => (edits[r.name] || r.permissions).includes(p);
  const toggle = (r, p, on) => {
    const cur = edits[r.name] || r.permissions;
    setEdits({ ...edits, [r.name]: on ? [...cur, p] : cur.filter((x) => x !== p) });
  };
  const save = async (r) => {
    const ok = await act(() => api.put(`/admin/roles/${encodeURIComponent(r.name)}`, { permissions: edits[r.name] }), t('common.saved'));
    if (ok) {
      const { [r.name]: _, ...rest } = edits;
      setEdits(rest);
      roles.reload();
    }
  };
  return html`<${Page} title=${t('staff.roles_title')}
      actions=${html`<button type="button" class="primary" id="role-new" onClick=${() => setCreating(true)}>${t('staff.role_create')}</button>`}>
    <${ErrorBox} error=${roles.error || perms.error} />
    <div class="table-wrap"><table class="matrix" id="role-matrix">
      <caption>${t('staff.matrix')}</caption>
      <thead><tr><th scope="col">${t('staff.permission')}</th>
        ${list.map((r) => html`<th scope="col" title=${r.description}>${roleLabel(r.name)}${r.builtin ? html`<div class="muted">${t('staff.builtin')}</div>` : ''}</th>`)}</tr></thead>
      <tbody>
        ${all.map((p) => html`<tr data-perm=${p}><th scope="row">${permLabel(p)}</th>
          ${list.map((r) => html`<td class="center"><input type="checkbox" aria-label=${`${r.name} ${p}`} data-role=${r.name}
            checked=${holds(r, p)} disabled=${r.builtin} onChange=${(e) => toggle(r, p, e.currentTarget.checked)} /></td>`)}
        </tr>`)}
        <tr><td></td>${list.map((r) => html`<td class="center">${edits[r.name] &&
          html`<button type="button" class="primary" data-save=${r.name} onClick=${() => save(r)}>${t('common.save')}</button>`}</td>`)}</tr>
      </tbody>
    </table></div>
    ${creating && html`<${RoleDialog} perms=${all} onClose=${() => setCreating(false)} onDone=${roles.reload} />`}
  </${Page}>`;
}

const permLabel = (p) => {
  const k = `staff.perm.${p.replace('.', '_')}`;
  return has(k) ? `${t(k)} (${p})` : p;
};

function RoleDialog({ perms, onClose, onDone }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState([]);
  return html`<${ActionDialog} id="role-form" open=${true} title=${t('staff.role_create')} onClose=${onClose} submitLabel=${t('common.save')}
      onSubmit=${async () => {
        const r = await act(() => api.post('/admin/roles', { name: name.trim(), description: description.trim(), permissions: chosen }), t('staff.created'));
        if (r) onDone();
        return !!r;
      }}>
    <${Input} id="role-name" label=${t('staff.role_name')} value=${name} onValue=${setName} required />
    <${Input} id="role-description" label=${t('staff.role_description')} value=${description} onValue=${setDescription} />
    <fieldset class="perm-list"><legend>${t('staff.permissions')}</legend>
      ${perms.map((p) => html`<${Checkbox} id=${`role-perm-${p}`} label=${permLabel(p)} checked=${chosen.includes(p)}
        onValue=${(v) => setChosen(v ? [...chosen, p] : chosen.filter((x) => x !== p))} />`)}
    </fieldset>
  </${ActionDialog}>`;
}

// ---- my password ------------------------------------------------------------------------------

export function PasswordPage() {
  const [oldPw, setOld] = useState('');
  const [newPw, setNew] = useState('');
  const [again, setAgain] = useState('');
  return html`<${Page} title=${t('staff.password_title')}>
    <${Card}>
      <${Form} id="password-form" submitLabel=${t('common.save')} onSubmit=${async () => {
        if (newPw.length < 8) return notify(t('staff.password_short'), 'error');
        if (newPw !== again) return notify(t('staff.password_mismatch'), 'error');
        const r = await act(() => api.post('/admin/me/password', { old_password: oldPw, new_password: newPw }), t('staff.password_changed'));
        // Every token of the operator is revoked: sign in again with the new password.
        if (r) await signOut(false);
        return undefined;
      }}>
        <${Input} id="pw-old" type="password" label=${t('staff.old_password')} value=${oldPw} onValue=${setOld} required autocomplete="current-password" />
        <${Input} id="pw-new" type="password" label=${t('staff.new_password')} value=${newPw} onValue=${setNew} required autocomplete="new-password" />
        <${Input} id="pw-again" type="password" label=${t('staff.new_password_again')} value=${again} onValue=${setAgain} required autocomplete="new-password" />
      </${Form}>
    </${Card}>
  </${Page}>`;
}
