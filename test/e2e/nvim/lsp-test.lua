-- Suite c: Neovim as a second, independent LSP client of `node dist/server.js --stdio`.
-- run: nvim --headless --clean -c 'luafile test/e2e/nvim/lsp-test.lua' <workspace>/nested_pdptr.c
-- env: KVM_LENS_SERVER (path of dist/server.js). Prints PASS/FAIL lines and exits 0 when all passed.
-- Debian 12 ships nvim 0.7.2, which has vim.lsp.start_client but not vim.lsp.start (0.8+); both are handled.
local server = assert(vim.env.KVM_LENS_SERVER, 'set KVM_LENS_SERVER')
local passed, failed = 0, 0
local function out(s) io.stdout:write(s .. '\n') end
local function check(name, ok, detail)
  if ok then passed = passed + 1 else failed = failed + 1 end
  out(string.format('%s [nvim] %s%s', ok and 'PASS' or 'FAIL', name, detail and (' — ' .. detail) or ''))
end
local function finish()
  local v = vim.version()
  out(string.format('[nvim] %d passed, %d failed (nvim %d.%d.%d)', passed, failed, v.major, v.minor, v.patch))
  vim.cmd(failed == 0 and 'qa!' or 'cquit 1')
end
vim.defer_fn(function() check('finished within 40 s', false); finish() end, 40000)

local bufnr = vim.api.nvim_get_current_buf()
local published = {} -- uri -> diagnostics, as the server sent them
local config = {
  name = 'kvm-lens',
  cmd = { 'node', server, '--stdio' },
  root_dir = vim.fn.getcwd(),
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, cfg)
      if result then published[result.uri] = result.diagnostics end
      return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, cfg)
    end,
  },
}
local client_id
if vim.lsp.start then
  client_id = vim.lsp.start(config) -- nvim >= 0.8: attaches the current buffer
else
  client_id = vim.lsp.start_client(config)
  if client_id then vim.lsp.buf_attach_client(bufnr, client_id) end
end
check('client started', client_id ~= nil, 'id ' .. tostring(client_id))
if not client_id then finish() return end

local ok = vim.wait(15000, function()
  local c = vim.lsp.get_client_by_id(client_id)
  return c ~= nil and c.initialized == true
end, 50)
check('initialize handshake', ok)
if not ok then finish() return end

-- position (0-based) of the first occurrence of a word in the buffer
local function find(word)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local col = line:find(word, 1, true)
    if col then return { line = i - 1, character = col + 1 } end
  end
end

local uri = vim.uri_from_bufnr(bufnr)
local pos = find('GUEST_PDPTR0')
local res = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', { textDocument = { uri = uri }, position = pos }, 10000)
local hover = ''
for _, r in pairs(res or {}) do
  if r.result and r.result.contents then hover = hover .. (r.result.contents.value or vim.inspect(r.result.contents)) end
end
check('hover on GUEST_PDPTR0 contains 0x280a', hover:find('0x280a', 1, true) ~= nil, (hover:gsub('\n.*', '')))

local got = vim.wait(15000, function()
  for _, d in ipairs(published[uri] or {}) do
    if d.code == 'vmcs-width' then return true end
  end
  return false
end, 50)
local lines = {}
for _, d in ipairs(published[uri] or {}) do table.insert(lines, tostring(d.range.start.line + 1) .. ':' .. tostring(d.code)) end
check('publishDiagnostics reports vmcs-width', got, table.concat(lines, ' '))
check('vim.diagnostic has the findings for the buffer', #vim.diagnostic.get(bufnr) > 0, tostring(#vim.diagnostic.get(bufnr)) .. ' diagnostics')

local target = find('return vmcs_read32(GUEST_PDPTR0)')
local actions = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', {
  textDocument = { uri = uri },
  range = { start = { line = target.line, character = 0 }, ['end'] = { line = target.line, character = 40 } },
  context = { diagnostics = {} },
}, 10000)
local titles = {}
for _, r in pairs(actions or {}) do for _, a in ipairs(r.result or {}) do table.insert(titles, a.title) end end
check('codeAction offers the accessor fix', table.concat(titles, ','):find('vmcs_read64', 1, true) ~= nil, table.concat(titles, ', '))

vim.lsp.stop_client(client_id)
finish()
