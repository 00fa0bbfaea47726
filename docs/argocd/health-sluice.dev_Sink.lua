-- Argo CD health check for a Sluice resource (sluice.dev/v1alpha1 EventStream, Aggregation
-- or Sink; the three files are the same script). Argo CD runs it with the object as `obj`.
-- Written for Lua 5.1 (Argo CD's gopher-lua) and checked with lua5.4 by
-- test/unit/argocd-health.test.ts.
--
-- Only the Ready condition is read. The operator stamps each condition with the generation
-- it judged, and moves status.observedGeneration only when Ready turns True: a new spec
-- that fails keeps the old observedGeneration but gets a Ready=False at the new generation.
-- So Ready's own observedGeneration says whether the verdict is about the current spec.
local hs = {}

local function progressing(message)
  hs.status = "Progressing"
  hs.message = message
  return hs
end

-- Ready=False reasons that resolve without anyone acting: the operator is still working
-- ("Reconciling", "Progressing"), or a Sink/Aggregation waits for its EventStream to accept
-- a schema (which has its own health). Every other reason (a refused spec, an outage of
-- Kafka, ClickHouse or the API server) is Degraded, with the reason and message shown.
local waiting = { Reconciling = true, Progressing = true, StreamNotReady = true }

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
local status = obj.status
if status == nil or status.conditions == nil then
  return progressing("Waiting for the Sluice operator to reconcile (no status yet)")
end

local ready = nil
for _, c in ipairs(status.conditions) do
  if c.type == "Ready" then
    ready = c
  end
end
if ready == nil or ready.status == nil or ready.status == "Unknown" then
  local detail = "no Ready condition yet"
  if ready ~= nil and ready.message ~= nil then
    detail = ready.message
  end
  return progressing("Waiting for Ready: " .. detail)
end

local judged = ready.observedGeneration
if judged == nil then
  judged = status.observedGeneration or 0
end
if judged < generation then
  return progressing(string.format("Waiting for the Sluice operator to observe generation %d (Ready is about generation %d)", generation, judged))
end

local reason = ready.reason or "NoReason"
local message = ready.message or ""
if ready.status == "True" then
  if (status.observedGeneration or 0) < generation then
    return progressing(string.format("Waiting for status.observedGeneration to reach %d", generation))
  end
  hs.status = "Healthy"
  hs.message = message
  return hs
end
if waiting[reason] then
  return progressing(reason .. ": " .. message)
end
hs.status = "Degraded"
hs.message = reason .. ": " .. message
return hs
