# 答案选项：显示的文字，以及客户可以输入的 `.synonyms`。数字总是可以（包括全角 １２３）。
# 中文没有空格：一个词在句子里也能找到（"我有时候会"里的"有时"）。
# 同一问题中，一个选项的同义词不能是另一个选项的词。

opt-yes = 是
    .synonyms = 是的, 对, 对的, 好, 好的, 可以, 行, 同意, 嗯, 当然, 没问题, 👍
opt-no = 否
    .synonyms = 不, 不是, 不要, 不用, 不行, 不同意, 没有, 不用了, 不了
opt-not-yet = 还没有
    .synonyms = 还没, 还没去, 快了, 以后, 下次

# UCLA-3 与 ONS。
opt-hardly-ever = 几乎没有
    .synonyms = 很少, 几乎不, 几乎从不, 难得
opt-some-of-the-time = 有时
    .synonyms = 有时候, 有的时候, 偶尔会, 有些时候
opt-often = 经常
    .synonyms = 常常, 总是, 一直, 很多, 时常, 老是
opt-often-always = 经常或总是
    .synonyms = 经常, 常常, 总是, 一直, 老是
opt-occasionally = 偶尔
    .synonyms = 间或, 不时
opt-never = 从不
    .synonyms = 从来没有, 从来不, 从没有, 没有过

# 方便的时间。
opt-morning = 上午
    .synonyms = 早上, 早晨, 上午好
opt-afternoon = 下午
    .synonyms = 中午, 午后
opt-evening = 晚上
    .synonyms = 傍晚, 晚间, 夜里
opt-any-time = 任何时间
    .synonyms = 随时, 都可以, 都行, 无所谓, 什么时候都行

# 现在最重要的事。
opt-lonely = 孤独
    .synonyms = 寂寞, 孤单, 一个人
opt-bored = 无聊
    .synonyms = 没意思, 闷
opt-disconnected = 与人疏离
    .synonyms = 疏离, 隔绝, 没有联系, 脱节
opt-making-ends-meet = 入不敷出
    .synonyms = 钱, 钱不够, 经济, 账单, 缺钱
opt-housing = 住房问题
    .synonyms = 住房, 房租, 住的地方, 房子
opt-work = 没有工作机会
    .synonyms = 工作, 找工作, 就业, 没工作
opt-sad = 难过
    .synonyms = 伤心, 悲伤, 心情不好, 难受
opt-no-one-to-rely-on = 没有可依靠的人
    .synonyms = 没人可以依靠, 没有人, 没人
opt-getting-older = 年纪渐大
    .synonyms = 年纪大, 变老, 老了, 年龄
opt-other = 其他
    .synonyms = 别的, 其它, 其他事情

# 没能去的原因。
opt-transport = 交通
    .synonyms = 公交, 巴士, 没车, 太远, 坐车
opt-cost = 费用
    .synonyms = 太贵, 贵, 钱, 价格, 收费
opt-not-up-to-it = 身体或精神不好
    .synonyms = 太累, 累, 不舒服, 生病, 病了, 没精神
opt-not-welcome = 觉得不受欢迎
    .synonyms = 不受欢迎, 不自在, 融不进去
opt-timing = 时间不合适
    .synonyms = 时间, 没时间, 太忙, 忙, 时间不对

# 社区归属感。
opt-very-strong = 非常强
    .synonyms = 很强
opt-somewhat-strong = 比较强
    .synonyms = 强, 还算强
opt-somewhat-weak = 比较弱
    .synonyms = 弱, 有点弱
opt-very-weak = 非常弱
    .synonyms = 很弱

# 心理健康自评。
opt-excellent = 极好
    .synonyms = 非常好, 特别好
opt-very-good = 很好
    .synonyms = 挺好
opt-good = 好
    .synonyms = 还好, 不错, 可以
opt-fair = 一般
    .synonyms = 还行, 马马虎虎, 普通
opt-poor = 差
    .synonyms = 不好, 很差, 不太好, 糟糕

# How are things (holistic check-in).
opt-well = 很好
opt-so-so = 一般
opt-not-well = 不好
