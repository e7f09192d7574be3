wm-intro = Your navigator at { $centre } would like to get to know you. Replies are read in office hours; in a crisis call or text 9-8-8, or 911.
wm-matters = What matters to you? Tell us in a few words.
wm-gifts = What do you enjoy, or what are you good at?
wm-needs = Which of these matters most to you right now? Reply with a number:
wm-needs-other = Please tell us in a few words.
wm-callback = Would you like your navigator to call you? Reply YES or NO.
wm-callback-ok = Thank you. Your navigator will call you soon.
wm-thanks = Thank you for sharing. Your navigator will read your answers.
