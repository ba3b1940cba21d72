-- Drives PlanGate's language server from a real Neovim (headless). Writes what it saw as JSON
-- to $PLANGATE_OUT. Every wait is bounded.
local out = {}
local function finish()
  local f = io.open(os.getenv("PLANGATE_OUT"), "w")
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local root = os.getenv("PLANGATE_WS")
  local client_id = vim.lsp.start_client({
    name = "plangate",
    cmd = { os.getenv("PLANGATE_PYTHON"), "-m", "plangate.cli", "serve" },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = "ws" } },
    init_options = { anthropicApiKey = "offline-test", anthropicBaseUrl = os.getenv("PLANGATE_BASE_URL") },
    handlers = {
      ["window/showMessageRequest"] = function(_, params) return params.actions[1] end,
      ["window/showDocument"] = function() return { success = true } end,
    },
  })
  local client = vim.lsp.get_client_by_id(client_id)

  -- 1. A file the agent may not edit carries a diagnostic.
  vim.cmd("edit " .. root .. "/.env")
  local env = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(env, client_id)
  vim.wait(20000, function() return #vim.diagnostic.get(env) > 0 end, 100)
  local diagnostics = vim.diagnostic.get(env)
  out.env_diagnostic = diagnostics[1] and diagnostics[1].message or ""

  -- 2. Propose a plan, open the plan document, list its code lenses and press one.
  local proposed = client.request_sync("plangate/proposePlan",
    { agent = "backend-developer", task = "Fix add() in app.py" }, 60000, env)
  local result = proposed and proposed.result or {}
  out.session = result.sessionId
  vim.cmd("edit " .. vim.uri_to_fname(result.planUri))
  local plan = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(plan, client_id)
  local lenses = client.request_sync("textDocument/codeLens",
    { textDocument = { uri = vim.uri_from_bufnr(plan) } }, 20000, plan)
  out.lenses = {}
  local approve
  for _, lens in ipairs((lenses and lenses.result) or {}) do
    table.insert(out.lenses, lens.command.title)
    if lens.command.title == "Approve plan" then approve = lens.command end
  end
  if approve then
    client.request_sync("workspace/executeCommand",
      { command = approve.command, arguments = approve.arguments }, 20000, plan)
  end
  -- 3. The session advanced: it now waits for phase 1.
  local status = {}
  vim.wait(30000, function()
    local reply = client.request_sync("plangate/sessionStatus", { sessionId = out.session }, 5000, plan)
    status = (reply and reply.result) or {}
    return status.pending ~= nil and status.pending ~= vim.NIL and status.pending.phase == 1
  end, 200)
  out.status = status.status
  out.pending_phase = status.pending and status.pending ~= vim.NIL and status.pending.phase or nil
  client.stop()
end)
if not ok then out.error = tostring(err) end
finish()
