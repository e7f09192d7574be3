hat-how = How are things going for you these days? Reply with a number:
hat-thanks = Thank you for telling us. We are here if you need us.
