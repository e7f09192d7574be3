# UCLA 三题孤独量表（Hughes et al. 2004）和 ONS 直接问题。
loneliness-intro = 几个关于您近来感受的问题。请回复答案的数字。回复只在办公时间阅读；危机时请拨 9-8-8 或 911。
# UCLA-3: project translation, pending validation.
ucla3-companionship = 您多常觉得缺少陪伴？
# UCLA-3: project translation, pending validation.
ucla3-left-out = 您多常觉得被冷落？
# UCLA-3: project translation, pending validation.
ucla3-isolated = 您多常觉得与他人隔绝？
# ONS direct question: project translation, pending validation.
ons-lonely = 您多常感到孤独？
