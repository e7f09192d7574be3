# 加拿大社区健康调查（CCHS）问题。
belonging-intro = 两个关于您的社区和健康的简短问题。回复只在办公时间阅读；危机时请拨 9-8-8 或 911。
# CCHS: project translation, pending validation.
cchs-belonging = 您如何形容您对当地社区的归属感？您会说是：
# CCHS: project translation, pending validation.
cchs-mental-health = 总的来说，您会说您的心理健康是：
