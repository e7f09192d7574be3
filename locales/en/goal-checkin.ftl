# Goal check-in. { $goal } is the client's goal in their own words, never translated.
gc-rating = You set this goal with your navigator: "{ $goal }". How close are you to it now? Reply 0 (not at all) to 10 (reached).
gc-in-the-way = Is anything getting in the way? Reply YES or NO.
gc-what = What is getting in the way? Tell us in a few words.
gc-noted = Thank you. Your navigator will read this and get in touch.
gc-thanks = Thank you. Keep going!
