# Messages the service sends outside any flow. Variables: $centre, $program.
# Keep HELP within 160 GSM-7 characters: it must name the centre and say how to stop.

help = { $centre }: check-ins from your navigator. Reply STOP to stop, START to restart. Crisis: call or text 9-8-8, or 911.
stop-confirmation = You will not get any more messages from { $centre }. Reply START to get them again.
start-confirmation = Welcome back. You will get check-ins from { $centre } again. Reply STOP to stop.
language-switched = OK, we will write to you in English.
crisis-reply = If you are in danger or thinking of suicide, call or text 9-8-8 now (24/7, English or French) or call 911. Your navigator will also contact you.
no-session = Thanks for your message. Your navigator will read it during office hours. In a crisis, call or text 9-8-8, or 911.
stale-button = That button belongs to an earlier question, which is already closed. No problem: please answer the latest question instead.
language-choice = To change language, reply with its name: { $languages }.
program-default = the program you were referred to
nudge-gentle = Just checking in. When you have a moment, please answer our last question, or reply SKIP to skip it.
survey-thanks = Thank you! Your answers are saved for your navigator.

reprompt-choice = Sorry, I did not understand. Please reply with a number from 1 to { $count }:
reprompt-yes-no = Sorry, I did not understand. Please reply YES or NO.
reprompt-scale = Sorry, I did not understand. Please reply with a number from { $min } to { $max }.
reprompt-date = Sorry, I did not understand. Please reply with a date, like 15/03 or 2026-03-15.
reprompt-text = Please reply with a few words.

# The language's own name, and what a client may type to switch to it.
language-name = English
    .synonyms = english, anglais, eng, en, inglés, ingles

# Spelled-out numbers, zero to ten, for scale answers.
numbers =
    .words = zero, one, two, three, four, five, six, seven, eight, nine, ten

dates =
    .today = today
    .tomorrow = tomorrow
telegram-stranger = This bot sends check-ins to clients of { $centre }. To connect, open the link your navigator gave you. In a crisis, call or text 9-8-8, or 911.
