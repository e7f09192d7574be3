# ONS4 personal wellbeing, validated wording.
wellbeing-intro = Four questions about your wellbeing. Answer each from 0 (not at all) to 10 (completely). Replies are read in office hours; in a crisis call or text 9-8-8, or 911.
ons4-satisfied = Overall, how satisfied are you with your life nowadays? (0-10)
ons4-worthwhile = Overall, to what extent do you feel that the things you do in your life are worthwhile? (0-10)
ons4-happy = Overall, how happy did you feel yesterday? (0-10)
ons4-anxious = On a scale where 0 is "not at all anxious" and 10 is "completely anxious", overall, how anxious did you feel yesterday?
