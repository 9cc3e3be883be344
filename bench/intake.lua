-- wrk script for bench/intake.py: POST /v1/cases with a different enterprise demand each time.
-- INTAKE_AUTH: the enterprise key (empty for the ceiling); INTAKE_PACE_MS: each connection waits
-- this long after each answer (0: back to back).
local bodies = {
  {"项目用地报批进度缓慢", "我公司新建厂房项目土地报批材料已提交自然资源部门两个月，建设用地批复至今未下达，影响开工。"},
  {"中小企业贷款审批时间长", "向本地银行申请的流动资金贷款材料已提交四十天，审批仍无结果，企业原料采购资金紧张。"},
  {"专用变压器报装迟迟未接电", "新上生产线需要增容专用变压器，供电公司受理后一个月未安排现场勘查，设备无法调试。"},
  {"出口退税进度查询", "公司第三季度出口退税申报已审核通过，但退税款一直未到账，多次咨询税务局未获答复。"},
  {"员工子女转学入学困难", "企业引进的技术骨干子女需要转入市区小学，教育部门称学位已满，希望协调解决。"},
  {"食品经营许可证办理超时", "新开门店申请食品经营许可证，市场监管部门现场核查后超过法定时限仍未发证。"},
  {"冷链运输车辆进城受限", "公司冷链配送车辆在城区限行时段无法通行，申请通行证被拒，影响生鲜配送时效。"},
  {"政府采购货款未支付", "我公司中标的政府采购项目已验收合格，合同约定的尾款至今未支付。"},
}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("INTAKE_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = "Bearer " .. auth end
local pace = tonumber(os.getenv("INTAKE_PACE_MS") or "0")
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
local n = 0
function request()
  n = n + 1
  local b = bodies[((n + tid * 3) % #bodies) + 1]
  local body = '{"title":"' .. b[1] .. '","description":"' .. b[2] .. '编号' .. tid .. '-' .. n .. '。",' ..
               '"urgency":"' .. ((n % 10 == 0) and "urgent" or "normal") .. '"}'
  return wrk.format(nil, nil, nil, body)
end
function delay() return pace end
