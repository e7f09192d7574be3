rf-went = Did you go to { $program }?
rf-barrier = What got in the way? Reply with a number:
rf-barrier-other = Please tell us in a few words what got in the way.
rf-barrier-thanks = Thank you for telling us. Your navigator will get in touch to help.
rf-how = How was it, from 1 (not good) to 5 (very good)?
rf-keep-going = Would you like to keep going? Reply YES or NO.
rf-keep-yes = Wonderful. Enjoy it!
rf-keep-no = Thank you for telling us. Your navigator will get in touch.
