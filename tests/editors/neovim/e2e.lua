-- safemig end-to-end test in a real, headless Neovim (0.7.2 and 0.11+).
--
-- Run by tests/editors/neovim/run, one Neovim process per case:
--   nvim --headless -u NONE -i NONE -n -c 'luafile tests/editors/neovim/e2e.lua'
-- with these environment variables:
--   SAFEMIG_E2E_CASE     project | new-file | single-file | single-file-no-root | lsp-config | lsp-config-single-file
--   SAFEMIG_E2E_FILE     the .sql file to open
--   SAFEMIG_E2E_ROOT     the root directory the client must end up with ('' = no root)
--   SAFEMIG_E2E_OUT      where to write the JSON result
--   SAFEMIG_E2E_SERVER   the server binary (target/debug/safemig)
--   SAFEMIG_E2E_README   the README whose Neovim snippets the 0.11 cases run verbatim
--   SAFEMIG_E2E_TIMEOUT_MS  how long one step may wait (default 20000)
-- The README snippets say `cmd = { "safemig", "lsp" }`: run puts the server first on PATH.
--
-- Every wait is a vim.wait with a timeout, and every outcome (pass, failed check, Lua error)
-- writes the JSON and quits: exit 0 on success, 1 on failure. A server that never answers fails
-- a step after the timeout instead of hanging.

local uv = vim.loop
local started_ns = uv.hrtime()
local HAS_011 = vim.fn.has('nvim-0.11') == 1
local TIMEOUT = tonumber(os.getenv('SAFEMIG_E2E_TIMEOUT_MS') or '') or 20000

local CASE = os.getenv('SAFEMIG_E2E_CASE') or ''
local FILE = os.getenv('SAFEMIG_E2E_FILE') or ''
local ROOT = os.getenv('SAFEMIG_E2E_ROOT') or ''
local OUT = os.getenv('SAFEMIG_E2E_OUT') or ''
local SERVER = os.getenv('SAFEMIG_E2E_SERVER') or ''
local README = os.getenv('SAFEMIG_E2E_README') or ''

local v = vim.version()
local result = {
  case = CASE,
  nvim = string.format('%d.%d.%d', v.major, v.minor, v.patch),
  file = FILE,
  ok = false,
  checks = {},
  messages = {},
}

-- --- helpers -----------------------------------------------------------------------------------

local Failure = {}

local function elapsed_ms()
  return math.floor((uv.hrtime() - started_ns) / 1e6)
end

-- Records a check; a failed one ends the case with its name and detail as the reason.
local function check(name, ok, detail)
  table.insert(result.checks, { name = name, ok = ok and true or false, detail = detail, at_ms = elapsed_ms() })
  if not ok then
    error(setmetatable({ reason = name .. (detail and (': ' .. tostring(detail)) or '') }, Failure))
  end
end

local function wait(ms, predicate)
  return vim.wait(ms, predicate, 20)
end

-- Methods are `client:m()` on 0.11 (the dot form is deprecated there) and `client.m()` on 0.7.
local function call(client, method, ...)
  if HAS_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function safemig_clients(buf)
  local all = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
  local out = {}
  for _, c in ipairs(all) do
    if c.name == 'safemig' and (buf == nil or vim.lsp.buf_is_attached(buf, c.id)) then
      table.insert(out, c)
    end
  end
  return out
end

local function realpath(p)
  return p and (uv.fs_realpath(p) or p) or nil
end

-- Sends a request straight to the client (not through buf_request, which on 0.7 refuses a method
-- the server did not advertise, and on 0.11 silently sends it to nobody) and waits for the answer.
local function request(client, buf, method, params)
  local done, res, err = false, nil, nil
  local sent = call(client, 'request', method, params, function(e, r)
    err, res, done = e, r, true
  end, buf)
  check(method .. ' sent', sent, 'the client refused to send it')
  check(method .. ' answered', wait(TIMEOUT, function()
    return done
  end), 'no answer within ' .. TIMEOUT .. ' ms')
  check(method .. ' succeeded', err == nil, err and string.format('error %s: %s', tostring(err.code), tostring(err.message)))
  return res
end

local function rule_of(d)
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then
    code = d.user_data.lsp.code
  end
  return code ~= nil and tostring(code) or '?'
end

-- The buffer's diagnostics as Neovim holds them: {rule, line (1-based), col (1-based), ...}.
local function diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out, {
      rule = rule_of(d),
      line = d.lnum + 1,
      col = d.col + 1,
      severity = d.severity,
      source = d.source,
      message = d.message,
    })
  end
  table.sort(out, function(a, b)
    if a.line ~= b.line then
      return a.line < b.line
    end
    if a.rule ~= b.rule then
      return a.rule < b.rule
    end
    return a.col < b.col
  end)
  return out
end

local function keys(diags)
  local out = {}
  for _, d in ipairs(diags) do
    table.insert(out, d.rule .. '@' .. d.line)
  end
  return table.concat(out, ', ')
end

local function has(diags, rule, line)
  for _, d in ipairs(diags) do
    if d.rule == rule and d.line == line then
      return true
    end
  end
  return false
end

-- A diagnostic back in LSP form, for a codeAction request's context.
local function to_lsp(d)
  local raw = d.user_data and d.user_data.lsp
  if raw and raw.range then
    return raw -- 0.11 keeps the server's diagnostic as it came
  end
  return {
    range = {
      start = { line = d.lnum, character = d.col },
      ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
    },
    severity = d.severity,
    code = d.code,
    source = d.source,
    message = d.message,
    data = raw and raw.data or nil,
  }
end

-- The ```lua block that follows `<!-- neovim-e2e: NAME -->` in the README.
local function readme_snippet(name)
  local f = io.open(README, 'r')
  check('README readable', f ~= nil, README)
  local text = f:read('*a')
  f:close()
  local marker = '<!-- neovim-e2e: ' .. name .. ' -->'
  local at = text:find(marker, 1, true)
  check('README has snippet ' .. name, at ~= nil, 'no ' .. marker .. ' in ' .. README)
  local body_start = select(2, text:find('```lua\n', at, true))
  local body_end = body_start and text:find('\n```', body_start, true)
  check('README snippet ' .. name .. ' is a ```lua block', body_start and body_end, marker)
  return text:sub(body_start + 1, body_end)
end

local function run_snippet(name)
  local code = readme_snippet(name)
  result.snippet = code
  local chunk, err = (loadstring or load)(code, '=README:' .. name)
  check('README snippet ' .. name .. ' compiles', chunk ~= nil, err)
  local ok, run_err = pcall(chunk)
  check('README snippet ' .. name .. ' runs', ok, run_err)
end

-- The root the README's vim.lsp.start snippet computes (vim.fs.find upward from the file's
-- directory, nearest `safemig.toml` or `.git`, else the file's directory), with 0.7's functions.
local function marker_dir(dir)
  local at = dir
  while true do
    if uv.fs_stat(at .. '/safemig.toml') or uv.fs_stat(at .. '/.git') then
      return at
    end
    local parent = vim.fn.fnamemodify(at, ':h')
    if parent == at then
      return nil
    end
    at = parent
  end
end

local function marker_root(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  return marker_dir(dir) or dir
end

local SETTINGS = { safemig = { databaseUrlEnv = 'DATABASE_URL' } }

-- --- opening the file, by the API each version and case calls for -------------------------------

local function open_file()
  vim.cmd('edit ' .. vim.fn.fnameescape(FILE))
  local buf = vim.api.nvim_get_current_buf()
  check('file opened', vim.api.nvim_buf_get_name(buf) ~= '', FILE)
  return buf
end

local function start(mode)
  result.api = mode
  if mode == 'start_client' then
    -- 0.7: no vim.lsp.start, no vim.fs. Same command, root and settings as the README snippet.
    local root = nil
    if CASE ~= 'single-file-no-root' then
      root = marker_root(FILE)
    end
    local id = vim.lsp.start_client({
      name = 'safemig',
      cmd = { SERVER, 'lsp' },
      root_dir = root,
      settings = SETTINGS,
    })
    check('start_client returned a client id', id ~= nil, SERVER)
    local buf = open_file()
    check('buf_attach_client', vim.lsp.buf_attach_client(buf, id), 'client ' .. tostring(id))
    return buf
  elseif mode == 'vim.lsp.start' then
    run_snippet('vim.lsp.start')
    return open_file()
  elseif mode == 'vim.lsp.start-no-root' then
    vim.api.nvim_create_autocmd('FileType', {
      pattern = 'sql',
      callback = function()
        vim.lsp.start({ name = 'safemig', cmd = { 'safemig', 'lsp' }, root_dir = nil, settings = SETTINGS })
      end,
    })
    return open_file()
  elseif mode == 'vim.lsp.config' then
    run_snippet('vim.lsp.config')
    return open_file()
  end
  error('unknown mode ' .. mode)
end

-- --- the cases ------------------------------------------------------------------------------------

local EXPECTED_0003 = {
  'create-index-blocking@2',
  'lock-timeout-missing@4',
  'unique-constraint-blocking@4',
}
local FIX_PREFIX = 'Use CREATE INDEX CONCURRENTLY'
local FIXED_LINE = 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);'

local function attach(buf)
  local client
  check('client attached', wait(TIMEOUT, function()
    client = safemig_clients(buf)[1]
    return client ~= nil
  end), 'no initialized safemig client on the buffer within ' .. TIMEOUT .. ' ms (did the server answer initialize?)')
  check('client initialized', wait(TIMEOUT, function()
    return client.initialized or call(client, 'is_stopped')
  end) and not call(client, 'is_stopped'), 'the server did not initialize (or exited) within ' .. TIMEOUT .. ' ms')
  result.offset_encoding = client.offset_encoding
  result.root_dir = client.config.root_dir or vim.NIL
  local caps = client.server_capabilities or client.resolved_capabilities or {}
  result.server_capabilities = {
    hover = caps.hoverProvider ~= nil and caps.hoverProvider ~= false,
    code_action = caps.codeActionProvider ~= nil and caps.codeActionProvider ~= false,
  }
  local want = ROOT ~= '' and realpath(ROOT) or nil
  local got = client.config.root_dir and realpath(client.config.root_dir) or nil
  check('root_dir', want == got, string.format('expected %s, got %s', tostring(want), tostring(got)))
  return client
end

-- Diagnostics of 0003 by rule id and line: exactly the set `safemig check` reports for the file.
local function diagnostics_0003(buf)
  local want = table.concat(EXPECTED_0003, ', ')
  local seen = ''
  local arrived = wait(TIMEOUT, function()
    seen = keys(diagnostics(buf))
    return seen == want
  end)
  result.diagnostics = diagnostics(buf)
  check('diagnostics of 0003', arrived, string.format('expected {%s}, got {%s}', want, seen))
end

local function project(client, buf)
  diagnostics_0003(buf)

  local uri = vim.uri_from_bufnr(buf)

  -- Hover on line 2 (`CREATE INDEX users_email_idx …`): markdown naming the lock.
  local hover = request(client, buf, 'textDocument/hover', {
    textDocument = { uri = uri },
    position = { line = 1, character = 7 },
  })
  check('hover has a result', type(hover) == 'table' and hover.contents ~= nil, vim.inspect(hover))
  local contents = hover.contents
  local kind = type(contents) == 'table' and contents.kind or nil
  local value = type(contents) == 'table' and contents.value or tostring(contents)
  result.hover = { kind = kind or vim.NIL, value = value }
  check('hover is markdown', kind == 'markdown', 'kind ' .. tostring(kind))
  check('hover mentions the SHARE lock', value:find('SHARE', 1, true) ~= nil, value)

  -- Code action on line 2: the CONCURRENTLY quick fix, applied as the editor would.
  local line2 = vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1]
  local context_diags = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = 1 })) do
    table.insert(context_diags, to_lsp(d))
  end
  -- Asked until the workspace's first analysis is in: before it, the server offers nothing.
  local actions, fix = {}, nil
  wait(TIMEOUT, function()
    actions = request(client, buf, 'textDocument/codeAction', {
      textDocument = { uri = uri },
      range = { start = { line = 1, character = 0 }, ['end'] = { line = 1, character = #line2 } },
      context = { diagnostics = context_diags },
    }) or {}
    for _, a in ipairs(actions) do
      if not fix and a.kind == 'quickfix' and type(a.title) == 'string' and a.title:sub(1, #FIX_PREFIX) == FIX_PREFIX then
        fix = a
      end
    end
    return fix ~= nil
  end)
  result.code_actions = {}
  for _, a in ipairs(actions) do
    table.insert(result.code_actions, { title = a.title, kind = a.kind or vim.NIL })
  end
  local titles = {}
  for _, a in ipairs(result.code_actions) do
    table.insert(titles, string.format('%q (%s)', a.title, tostring(a.kind)))
  end
  check(
    'quick fix "' .. FIX_PREFIX .. '…" offered on line 2',
    fix ~= nil,
    string.format(
      'got %d action(s)%s; server advertises codeActionProvider: %s',
      #actions,
      #titles > 0 and (': ' .. table.concat(titles, ', ')) or '',
      tostring(result.server_capabilities.code_action)
    )
  )
  result.fix_title = fix.title
  if fix.edit == nil and fix.command == nil then
    fix = request(client, buf, 'codeAction/resolve', fix)
  end
  if fix.edit then
    vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  elseif fix.command then
    local cmd = type(fix.command) == 'table' and fix.command or fix
    request(client, buf, 'workspace/executeCommand', { command = cmd.command, arguments = cmd.arguments })
  end
  local now = ''
  local fixed = wait(TIMEOUT, function()
    now = vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1]
    return now == FIXED_LINE
  end)
  result.line2_after_fix = now
  check('line 2 after the fix', fixed, string.format('expected %q, got %q', FIXED_LINE, tostring(now)))

  -- The edit reaches the server (didChange) and its diagnostic goes away.
  local gone = wait(TIMEOUT, function()
    return not has(diagnostics(buf), 'create-index-blocking', 2)
  end)
  result.diagnostics_after_fix = diagnostics(buf)
  check('create-index-blocking gone after the fix', gone, 'still there: {' .. keys(diagnostics(buf)) .. '}')
end

-- A fix that writes a new migration (golang-migrate: the concurrent build in a file of its own),
-- in a Neovim that announces no `documentChanges`: the server writes the file and sends the
-- buffer's edit through workspace/applyEdit.
local NEW_FILE_FIX = 'Use CREATE INDEX CONCURRENTLY'
local function new_file(client, buf)
  local arrived = wait(TIMEOUT, function()
    return has(diagnostics(buf), 'create-index-blocking', 1)
  end)
  check('create-index-blocking on line 1', arrived, '{' .. keys(diagnostics(buf)) .. '}')
  local caps = (vim.lsp.protocol.make_client_capabilities().workspace or {}).workspaceEdit or {}
  result.client_document_changes = caps.documentChanges or false
  local uri = vim.uri_from_bufnr(buf)
  local line1 = vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1]
  local context_diags = {}
  for _, d in ipairs(vim.diagnostic.get(buf, { lnum = 0 })) do
    table.insert(context_diags, to_lsp(d))
  end
  -- Asked until the workspace's analysis is in (before it, nothing is offered).
  local fix
  wait(TIMEOUT, function()
    local actions = request(client, buf, 'textDocument/codeAction', {
      textDocument = { uri = uri },
      range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = #line1 } },
      context = { diagnostics = context_diags },
    }) or {}
    for _, a in ipairs(actions) do
      if type(a.title) == 'string' and a.title:sub(1, #NEW_FILE_FIX) == NEW_FILE_FIX and a.title:find('new migration', 1, true) then
        fix = a
      end
    end
    return fix ~= nil
  end)
  check('a fix that writes a new migration is offered', fix ~= nil, 'none offered')
  result.fix_title = fix.title
  result.fix_by = fix.edit and 'edit' or 'command'
  if fix.edit then
    vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
  else
    local cmd = type(fix.command) == 'table' and fix.command or fix
    request(client, buf, 'workspace/executeCommand', { command = cmd.command, arguments = cmd.arguments })
  end
  local dir = vim.fn.fnamemodify(FILE, ':p:h')
  local created
  local done = wait(TIMEOUT, function()
    for _, name in ipairs(vim.fn.readdir(dir)) do
      if name:find('^000003_') and name:find('%.up%.sql$') then
        created = dir .. '/' .. name
      end
    end
    return created ~= nil and not table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find('CREATE INDEX', 1, true)
  end)
  check('the new migration exists and the statement left the buffer', done, 'created: ' .. tostring(created)
    .. '; buffer: ' .. table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), ' | '))
  local text = table.concat(vim.fn.readfile(created), '\n')
  result.created = text
  check('the new migration builds the index concurrently', text:find('CREATE INDEX CONCURRENTLY users_email_idx ON users (email);', 1, true) ~= nil, text)
end

local function single_file(buf)
  local seen = ''
  local arrived = wait(TIMEOUT, function()
    local d = diagnostics(buf)
    seen = keys(d)
    return has(d, 'create-index-blocking', 1)
  end)
  result.diagnostics = diagnostics(buf)
  check('diagnostics of the lone file', arrived, 'expected create-index-blocking@1 among {' .. seen .. '}')
end

local function no_root_marker_above(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local found = marker_dir(dir)
  check(
    'no root marker above the lone file',
    found == nil,
    tostring(found) .. ' has a .git or safemig.toml; put the temp dir elsewhere (TMPDIR)'
  )
end

local MODES = {
  ['project'] = HAS_011 and 'vim.lsp.start' or 'start_client',
  ['new-file'] = HAS_011 and 'vim.lsp.start' or 'start_client',
  ['single-file'] = HAS_011 and 'vim.lsp.start' or 'start_client',
  ['single-file-no-root'] = HAS_011 and 'vim.lsp.start-no-root' or 'start_client',
  ['lsp-config'] = 'vim.lsp.config',
  ['lsp-config-single-file'] = 'vim.lsp.config',
}

local function main()
  check('known case', MODES[CASE] ~= nil, CASE)
  check('file exists', vim.fn.filereadable(FILE) == 1, FILE)
  if CASE:find('^lsp%-config') then
    check('Neovim 0.11+ for vim.lsp.config', vim.lsp.config ~= nil and vim.lsp.enable ~= nil, result.nvim)
  end
  if CASE ~= 'project' and CASE ~= 'lsp-config' and CASE ~= 'new-file' then
    no_root_marker_above(FILE)
  end
  -- Capture what the server says to the user, instead of Neovim printing it.
  vim.lsp.handlers['window/showMessage'] = function(_, params)
    table.insert(result.messages, { type = params.type, message = params.message })
  end
  -- Users' configs have filetype detection on; -u NONE leaves it off. The snippets need it.
  vim.cmd('filetype on')

  local buf = start(MODES[CASE])
  check('buffer filetype is sql', vim.bo[buf].filetype == 'sql', vim.bo[buf].filetype)
  local client = attach(buf)
  if CASE == 'project' then
    project(client, buf)
  elseif CASE == 'new-file' then
    new_file(client, buf)
  elseif CASE == 'lsp-config' then
    diagnostics_0003(buf)
  else
    single_file(buf)
  end
  -- The settings the snippets pass are valid: the server reports no settings problem.
  local problems = {}
  for _, m in ipairs(result.messages) do
    if m.type <= 2 then
      table.insert(problems, m.message)
    end
  end
  check('no error or warning message from the server', #problems == 0, table.concat(problems, ' | '))
end

-- --- run, report, quit ----------------------------------------------------------------------------

local ok, err = xpcall(main, function(e)
  if getmetatable(e) == Failure then
    return e
  end
  return setmetatable({ reason = 'Lua error: ' .. debug.traceback(tostring(e), 2) }, Failure)
end)
result.ok = ok
if not ok then
  result.reason = err.reason
end

-- Stop the server the way Neovim does (shutdown, exit) and wait for it, then force.
local clients = safemig_clients(nil)
for _, c in ipairs(clients) do
  pcall(call, c, 'stop')
end
local stopped = wait(5000, function()
  for _, c in ipairs(clients) do
    if not call(c, 'is_stopped') then
      return false
    end
  end
  return true
end)
if not stopped then
  for _, c in ipairs(clients) do
    pcall(call, c, 'stop', true)
  end
  wait(2000, function()
    return false
  end)
end
result.server_stopped = stopped
result.elapsed_ms = elapsed_ms()

local function write_result()
  local f = assert(io.open(OUT, 'w'))
  f:write(vim.json.encode(result))
  f:write('\n')
  f:close()
end
local wrote, write_err = pcall(write_result)

local line = string.format(
  '%s nvim %s %s (%d ms)%s\n',
  ok and 'PASS' or 'FAIL',
  result.nvim,
  CASE,
  result.elapsed_ms,
  ok and '' or (': ' .. result.reason)
)
io.stdout:write(line)
if not ok then
  for _, c in ipairs(result.checks) do
    io.stdout:write(string.format('    %s %s\n', c.ok and 'ok  ' or 'FAIL', c.name))
  end
end
if not wrote then
  io.stdout:write('    could not write ' .. OUT .. ': ' .. tostring(write_err) .. '\n')
end
io.stdout:flush()

if ok and wrote then
  vim.cmd('qall!')
else
  vim.cmd('cquit 1')
end
