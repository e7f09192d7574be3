# Mga sagot: ang label na ipinapakita, at ang `.synonyms` na maaaring i-type ng kliyente.
# Hindi mahalaga ang malaki o maliit na titik, bantas at emoji; laging gumagana ang numero.

opt-yes = Oo
    .synonyms = opo, oo po, sige, sige po, oke, okay, ok, syempre, siyempre, 👍
opt-no = Hindi
    .synonyms = hindi po, ayoko, ayaw ko, huwag, wag, hindi na
opt-not-yet = Hindi pa
    .synonyms = hindi pa po, di pa, mamaya, sa susunod, malapit na

# UCLA-3 at ONS.
opt-hardly-ever = Halos hindi
    .synonyms = bihira, bihirang-bihira, halos hindi kailanman
opt-some-of-the-time = Paminsan-minsan
    .synonyms = paminsan minsan, minsan, kung minsan, may mga pagkakataon
opt-often = Madalas
    .synonyms = palagi, lagi, parati, madalas po, lagi po
opt-often-always = Madalas/palagi
    .synonyms = madalas, palagi, lagi, parati
opt-occasionally = Paminsan-minsan lang
    .synonyms = paminsan minsan lang, minsan lang, bihira lang
opt-never = Hindi kailanman
    .synonyms = kailanman, hindi talaga, never

# Oras ng araw.
opt-morning = Umaga
    .synonyms = sa umaga, tuwing umaga
opt-afternoon = Hapon
    .synonyms = sa hapon, tanghali
opt-evening = Gabi
    .synonyms = sa gabi, tuwing gabi
opt-any-time = Kahit anong oras
    .synonyms = kahit kailan, kahit ano, kahit anong oras po, basta

# Pinakamahalaga ngayon.
opt-lonely = Nalulungkot mag-isa
    .synonyms = nag-iisa, malungkot mag-isa, walang kasama
opt-bored = Nababagot
    .synonyms = bagot, inip, naiinip
opt-disconnected = Hiwalay sa iba
    .synonyms = hiwalay, malayo sa iba, walang koneksyon
opt-making-ends-meet = Pagkasya ng pera
    .synonyms = pera, kulang ang pera, bayarin, gastos
opt-housing = Problema sa bahay
    .synonyms = bahay, upa, renta, tirahan
opt-work = Walang trabaho
    .synonyms = trabaho, hanapbuhay, walang hanapbuhay
opt-sad = Malungkot
    .synonyms = lungkot, kalungkutan, nalulungkot
opt-no-one-to-rely-on = Walang maaasahan
    .synonyms = walang kakampi, wala akong maaasahan, walang tao
opt-getting-older = Pagtanda
    .synonyms = edad, tumatanda, matanda na
opt-other = Iba pa
    .synonyms = iba, ibang bagay

# Mga hadlang.
opt-transport = Transportasyon
    .synonyms = sasakyan, bus, walang sasakyan, masyadong malayo, malayo, pamasahe
opt-cost = Gastos
    .synonyms = mahal, pera, presyo, bayad, masyadong mahal
opt-not-up-to-it = Hindi ko kinaya
    .synonyms = pagod, may sakit, masama ang pakiramdam, hindi kaya
opt-not-welcome = Hindi ako welcome
    .synonyms = hindi welcome, hindi komportable, hindi tanggap
opt-timing = Ang oras
    .synonyms = oras, wala akong oras, abala, busy, iskedyul

# Pakiramdam na kabilang sa komunidad.
opt-very-strong = Napakalakas
    .synonyms = sobrang lakas
opt-somewhat-strong = Medyo malakas
    .synonyms = malakas
opt-somewhat-weak = Medyo mahina
    .synonyms = mahina
opt-very-weak = Napakahina
    .synonyms = sobrang hina

# Kalusugang pangkaisipan.
opt-excellent = Napakahusay
    .synonyms = excellent, napakagaling
opt-very-good = Napakabuti
    .synonyms = very good, mabuting-mabuti
opt-good = Mabuti
    .synonyms = ayos, okay lang, maayos, good
opt-fair = Katamtaman
    .synonyms = puwede na, pwede na, so-so, hindi masyado
opt-poor = Mahina ang kalusugan
    .synonyms = masama, hindi maayos, pangit

# How are things (holistic check-in).
opt-well = Mabuti
opt-so-so = Ayos lang
opt-not-well = Hindi mabuti
