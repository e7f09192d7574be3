# Answer options, shared by every flow: the label shown, and `.synonyms` a client may type.
# Matching ignores case, accents, surrounding punctuation and emoji; numbers always work too.
# A synonym must never be another option's word in the same question.

opt-yes = Yes
    .synonyms = y, yeah, yep, yes please, sure, ok, okay, of course, oui, 👍
opt-no = No
    .synonyms = n, nope, no thanks, no thank you, not really, non
opt-not-yet = Not yet
    .synonyms = not yet, soon, later, not so far

# UCLA-3 and ONS frequency answers.
opt-hardly-ever = Hardly ever
    .synonyms = hardly, rarely, almost never, seldom, not often
opt-some-of-the-time = Some of the time
    .synonyms = sometimes, some times, now and then, some
opt-often = Often
    .synonyms = frequently, a lot, always, all the time, very often, lots
opt-often-always = Often/always
    .synonyms = often, always, often or always, all the time, frequently, a lot
opt-occasionally = Occasionally
    .synonyms = once in a while, from time to time, occasional
opt-never = Never
    .synonyms = not at all, not ever

# Best time of day.
opt-morning = Morning
    .synonyms = mornings, am, a.m.
opt-afternoon = Afternoon
    .synonyms = afternoons, pm, p.m.
opt-evening = Evening
    .synonyms = evenings, night, tonight
opt-any-time = Any time
    .synonyms = anytime, whenever, any, all day, doesn't matter

# Reminder-card needs (what matters).
opt-lonely = Feeling lonely
    .synonyms = lonely, loneliness, alone
opt-bored = Feeling bored
    .synonyms = bored, boredom
opt-disconnected = Feeling disconnected
    .synonyms = disconnected, cut off
opt-making-ends-meet = Making ends meet
    .synonyms = money, making ends meet, bills, not enough money
opt-housing = Housing problems
    .synonyms = housing, rent, home
opt-work = No work opportunities
    .synonyms = work, job, jobs, employment
opt-sad = Feeling sad
    .synonyms = sad, sadness, down
opt-no-one-to-rely-on = No one to rely on
    .synonyms = no one, nobody, no one to rely on
opt-getting-older = Getting older
    .synonyms = age, aging, ageing, older, getting old
opt-other = Something else
    .synonyms = other, else, something else

# Barriers to going.
opt-transport = Transport
    .synonyms = transportation, bus, ride, no ride, no car, getting there, too far
opt-cost = Cost
    .synonyms = money, too expensive, expensive, price, fees, fare
opt-not-up-to-it = Did not feel up to it
    .synonyms = not up to it, not feeling up to it, too tired, tired, not well, sick, unwell
opt-not-welcome = Did not feel welcome
    .synonyms = not welcome, unwelcome, didn't fit in, did not fit in
opt-timing = The timing
    .synonyms = timing, time, bad time, schedule, busy, no time

# Community belonging.
opt-very-strong = Very strong
opt-somewhat-strong = Somewhat strong
    .synonyms = strong, fairly strong
opt-somewhat-weak = Somewhat weak
    .synonyms = weak, fairly weak
opt-very-weak = Very weak

# Self-rated mental health.
opt-excellent = Excellent
opt-very-good = Very good
opt-good = Good
    .synonyms = ok, okay, fine
opt-fair = Fair
    .synonyms = so so, so-so, not great
opt-poor = Poor
    .synonyms = bad, not good, terrible, awful

# How are things (holistic check-in).
opt-well = Well
    .synonyms = good, fine, great, very well, pretty good, all good
opt-so-so = So-so
    .synonyms = ok, okay, not bad, alright, all right, could be better, so so
opt-not-well = Not well
    .synonyms = bad, badly, poorly, not good, not great, terrible, hard, awful
