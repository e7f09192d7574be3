# Statistics Canada CCHS items, validated wording.
belonging-intro = Two short questions about your community and your health. Replies are read in office hours; in a crisis call or text 9-8-8, or 911.
cchs-belonging = How would you describe your sense of belonging to your local community? Would you say it is:
cchs-mental-health = In general, would you say your mental health is:
