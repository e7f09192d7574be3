# ONS4 个人幸福感。
wellbeing-intro = 四个关于您幸福感的问题，每题从 0（完全没有）到 10（完全是）。回复只在办公时间阅读；危机时请拨 9-8-8 或 911。
# ONS4: project translation, pending validation.
ons4-satisfied = 总的来说，您对现在的生活有多满意？(0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = 总的来说，您觉得自己生活中所做的事情有多大价值？(0-10)
# ONS4: project translation, pending validation.
ons4-happy = 总的来说，您昨天感到有多快乐？(0-10)
# ONS4: project translation, pending validation.
ons4-anxious = 0 表示“完全不焦虑”，10 表示“非常焦虑”，总的来说，您昨天感到有多焦虑？
