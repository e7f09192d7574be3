# Mga mensahe sa labas ng anumang survey. Mga variable: $centre, $program.
help = { $centre }: mga text mula sa inyong navigator. I-reply ang STOP para tumigil, START para bumalik. Krisis: tumawag o mag-text sa 9-8-8, o 911.
stop-confirmation = Hindi na kayo makakatanggap ng mensahe mula sa { $centre }. I-reply ang START para makatanggap ulit.
start-confirmation = Maligayang pagbabalik. Makakatanggap ulit kayo ng mga text mula sa { $centre }. I-reply ang STOP para tumigil.
language-switched = Sige po, susulatan namin kayo sa Tagalog.
crisis-reply = Kung kayo ay nasa panganib o nag-iisip magpakamatay, tumawag o mag-text sa 9-8-8 ngayon (24/7, English o French) o tumawag sa 911 (may interpreter). Tatawagan din kayo ng inyong navigator.
no-session = Salamat sa inyong mensahe. Babasahin ito ng inyong navigator sa oras ng opisina. Sa krisis, tumawag o mag-text sa 9-8-8, o 911.
stale-button = Ang button na iyan ay para sa naunang tanong, na sarado na. Walang problema: sagutin po ang pinakahuling tanong.
language-choice = Para magpalit ng wika, i-reply ang pangalan nito: { $languages }.
program-default = ang programang inirekomenda sa inyo
nudge-gentle = Kumusta po? Kapag may oras kayo, sagutin ang huli naming tanong, o i-reply ang LAKTAW para laktawan ito.
survey-thanks = Salamat po! Naka-save ang inyong mga sagot para sa inyong navigator.

reprompt-choice = Pasensya na, hindi ko naintindihan. I-reply ang numero mula 1 hanggang { $count }:
reprompt-yes-no = Pasensya na, hindi ko naintindihan. I-reply ang OO o HINDI.
reprompt-scale = Pasensya na, hindi ko naintindihan. I-reply ang numero mula { $min } hanggang { $max }.
reprompt-date = Pasensya na, hindi ko naintindihan. I-reply ang petsa, gaya ng 15/03 o 2026-03-15.
reprompt-text = Sumagot po sa ilang salita.

# Ang pangalan ng wika sa sarili nitong wika, at ang maaaring i-type para lumipat dito.
language-name = Tagalog
    .synonyms = filipino, pilipino, tl, tgl, fil, tagalog po

# Mga numero mula zero hanggang sampu, para sa mga scale.
numbers =
    .words = sero, isa, dalawa, tatlo, apat, lima, anim, pito, walo, siyam, sampu

dates =
    .today = ngayon, ngayong araw
    .tomorrow = bukas
telegram-stranger = Ang bot na ito ay nagpapadala ng mga check-in sa mga kliyente ng { $centre }. Para kumonekta, buksan ang link mula sa inyong navigator. Sa krisis: 9-8-8 o 911.
