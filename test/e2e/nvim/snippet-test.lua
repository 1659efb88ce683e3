-- Suite nvim (part 2): the init.lua snippet of docs/editors.md, copied verbatim (run.sh substitutes the path), in
-- Neovim as a user starts it: `nvim arch/x86/kvm/vmx/nested.c` from outside the tree. Checks the client attaches with
-- the tree's top as root_dir (not arch/x86, which has a Kbuild), the index runs (definition in another file), `K`
-- shows kvm-lens's card, `gd` jumps to the enum member, `gr` lists uses across the tree, code actions include the
-- guard, suppress and explain. Prints PASS/FAIL lines and exits 0 when all passed.
local passed, failed = 0, 0
local function out(s) io.stdout:write(s .. '\n') end
local function check(name, ok, detail)
  if ok then passed = passed + 1 else failed = failed + 1 end
  out(string.format('%s [nvim-snippet] %s%s', ok and 'PASS' or 'FAIL', name, detail and (' — ' .. detail) or ''))
end
local function finish()
  out(string.format('[nvim-snippet] %d passed, %d failed', passed, failed))
  vim.cmd(failed == 0 and 'qa!' or 'cquit 1')
end
vim.defer_fn(function() check('finished within 50 s', false); finish() end, 50000)
local tree = assert(vim.env.KVM_LENS_TREE, 'set KVM_LENS_TREE')
local bufnr = vim.api.nvim_get_current_buf()

local function client()
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do if c.name == 'kvm-lens' then return c end end
end
local ok = vim.wait(20000, function() local c = client(); return c ~= nil and c.initialized == true end, 50)
check('the snippet starts kvm-lens and attaches the C buffer', ok)
if not ok then finish() return end
local c = client()
check('root_dir is the top of the tree (MAINTAINERS), not arch/x86 (Kbuild)', c.config.root_dir == tree, tostring(c.config.root_dir))

local function cursor_on(word, nth)
  local n = 0
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local col = line:find(word, 1, true)
    if col then
      n = n + 1
      if n == (nth or 1) then vim.api.nvim_win_set_cursor(0, { i, col + 1 }) return { line = i - 1, character = col + 1 } end
    end
  end
end

-- the index has run when go-to-definition finds the enum member in asm/vmx.h
local pos = cursor_on('GUEST_PDPTR0')
local uri = vim.uri_from_bufnr(bufnr)
local defs = {}
local indexed = vim.wait(30000, function()
  local res = vim.lsp.buf_request_sync(bufnr, 'textDocument/definition', { textDocument = { uri = uri }, position = pos }, 5000)
  defs = {}
  for _, r in pairs(res or {}) do for _, l in ipairs(r.result or {}) do table.insert(defs, l.uri:gsub('^.*/arch/', 'arch/') .. ':' .. l.range.start.line) end end
  return #defs >= 2
end, 500)
check('the workspace index serves definitions from other files', indexed, table.concat(defs, ' '))

-- K: a floating window with the card
local maps = vim.api.nvim_buf_get_keymap(bufnr, 'n')
local k = false
for _, m in ipairs(maps) do if m.lhs == 'K' then k = true end end
check('K is mapped in the buffer (not man)', k)
cursor_on('GUEST_PDPTR0')
vim.cmd('normal K')
local float_text = ''
local shown = vim.wait(10000, function()
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= '' then
      float_text = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), '\n')
      if float_text:find('0x280a', 1, true) then return true end
    end
  end
  return false
end, 50)
check('K opens the kvm-lens card (0x280a) in a float', shown, (float_text:gsub('\n.*', '')))
local lines = select(2, float_text:gsub('\n', '\n')) + 1
check('the card is short (≤ 14 lines)', lines <= 14, lines .. ' lines')
for _, w in ipairs(vim.api.nvim_list_wins()) do if vim.api.nvim_win_get_config(w).relative ~= '' then vim.api.nvim_win_close(w, true) end end

-- gr: references across the tree into the quickfix list
vim.fn.setqflist({})
cursor_on('GUEST_PDPTR0')
vim.cmd('normal gr')
local refs = {}
vim.wait(10000, function() refs = vim.fn.getqflist(); return #refs > 0 end, 50)
local files = {}
for _, it in ipairs(refs) do files[vim.fn.fnamemodify(vim.api.nvim_buf_get_name(it.bufnr), ':t')] = true end
check('gr lists uses in this file and in vmx.c (indexed)', files['nested.c'] and files['vmx.c'] and #refs >= 4, #refs .. ' entries: ' .. table.concat(vim.tbl_keys(files), ','))
vim.cmd('cclose')

-- code actions with the cursor on the accessor of the undefined read
local p2 = cursor_on('vmcs_read64(GUEST_PDPTR0)')
local res = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', {
  textDocument = { uri = uri }, range = { start = p2, ['end'] = p2 }, context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, p2.line) },
}, 10000)
local titles = {}
for _, r in pairs(res or {}) do for _, a in ipairs(r.result or {}) do table.insert(titles, a.title) end end
local all = table.concat(titles, ' | ')
check('code actions on the accessor: guard, suppress, explain', all:find('Guard with is_pae_paging(vcpu)', 1, true) and all:find('Suppress vmcs-undefined-read', 1, true) and all:find('Explain GUEST_PDPTR0', 1, true), all)

-- gd: jumps to the enum member in asm/vmx.h
vim.api.nvim_set_current_buf(bufnr)
cursor_on('GUEST_PDPTR0')
vim.cmd('normal gd')
-- Neovim 0.7 jumps to the first location and lists all of them in the quickfix window (which takes the focus)
local where, line = '', ''
local jumped = vim.wait(10000, function()
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    local name = vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w))
    if name:find('include/asm/vmx.h', 1, true) then
      local row = vim.api.nvim_win_get_cursor(w)[1]
      where, line = name:gsub('^.*/arch/', 'arch/') .. ':' .. row, vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), row - 1, row, false)[1]
      return true
    end
  end
  return false
end, 50)
check('gd jumps to the enum member in arch/x86/include/asm/vmx.h', jumped and line:find('GUEST_PDPTR0', 1, true) ~= nil, where .. ': ' .. line)

finish()
