rf-went = 您去参加 { $program } 了吗？
rf-barrier = 是什么让您没能去？请回复数字：
rf-barrier-other = 请用几句话告诉我们是什么让您没能去。
rf-barrier-thanks = 谢谢您告诉我们。您的协调员会联系您提供帮助。
rf-how = 感觉怎么样？从 1（不好）到 5（非常好）。
rf-keep-going = 您想继续参加吗？请回复“是”或“否”。
rf-keep-yes = 太好了，祝您愉快！
rf-keep-no = 谢谢您告诉我们。您的协调员会联系您。
