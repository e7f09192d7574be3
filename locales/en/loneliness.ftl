# UCLA 3-item loneliness scale (Hughes et al. 2004) and the ONS direct question, validated wording.
loneliness-intro = A few questions about how you have been feeling. Reply with the number of your answer. Replies are read in office hours; in a crisis call or text 9-8-8, or 911.
ucla3-companionship = How often do you feel that you lack companionship?
ucla3-left-out = How often do you feel left out?
ucla3-isolated = How often do you feel isolated from others?
ons-lonely = How often do you feel lonely?
