# 问卷以外的消息。变量：$centre、$program。中文短信为 UCS-2：每条 70 字，两条内 134 字。
help = { $centre }：您的个案协调员发送的回访短信。回复 STOP 停止，START 恢复。危机时请拨打或发短信 9-8-8，或拨 911。
stop-confirmation = 您将不再收到 { $centre } 的消息。回复 START 可重新接收。
start-confirmation = 欢迎回来。您将重新收到 { $centre } 的回访消息。回复 STOP 停止。
language-switched = 好的，我们会用中文给您写信息。
crisis-reply = 如果您有危险或想到自杀，请立即拨打或发短信 9-8-8（24小时，英语或法语），或拨 911（可提供翻译）。您的协调员也会联系您。
no-session = 谢谢您的消息。您的协调员会在办公时间阅读。危机时请拨打或发短信 9-8-8，或拨 911。
stale-button = 这个按钮属于之前的问题，已经结束了。没关系，请回答最新的问题。
language-choice = 要更换语言，请回复语言名称：{ $languages }。
program-default = 为您推荐的活动
nudge-gentle = 问候一下。有空时请回答我们上一个问题，或回复“跳过”。
survey-thanks = 谢谢！您的回答已为协调员保存。

reprompt-choice = 抱歉，我没看懂。请回复 1 到 { $count } 的数字：
reprompt-yes-no = 抱歉，我没看懂。请回复“是”或“否”。
reprompt-scale = 抱歉，我没看懂。请回复 { $min } 到 { $max } 的数字。
reprompt-date = 抱歉，我没看懂。请回复日期，例如 15/03 或 2026-03-15。
reprompt-text = 请用几句话回复。

# 语言的名称，以及客户可用来切换到该语言的词。
language-name = 中文
    .synonyms = 简体中文, 汉语, 普通话, 国语, 华语, 中文简体, 中國語, 国语, chinese, mandarin, chinois, zh, zhongwen

# 零到十，用于分数题（数字和全角数字总是可以）。
numbers =
    .words = 零, 一, 二, 三, 四, 五, 六, 七, 八, 九, 十

dates =
    .today = 今天, 今日
    .tomorrow = 明天, 明日
telegram-stranger = 这个机器人为 { $centre } 的客户发送回访消息。请打开协调员给您的链接来连接。危机时请拨 9-8-8 或 911。
