# ਜਵਾਬਾਂ ਦੇ ਵਿਕਲਪ: ਦਿਖਾਇਆ ਜਾਂਦਾ ਨਾਂ, ਅਤੇ `.synonyms` ਜੋ ਕਲਾਇੰਟ ਲਿਖ ਸਕਦਾ ਹੈ, ਗੁਰਮੁਖੀ ਜਾਂ
# ਲਾਤੀਨੀ ਅੱਖਰਾਂ ਵਿੱਚ (haan, nahi)। ਨੰਬਰ ਹਮੇਸ਼ਾ ਚੱਲਦੇ ਹਨ, ਗੁਰਮੁਖੀ ਅੰਕ (੧ ੨ ੩) ਵੀ।

opt-yes = ਹਾਂ
    .synonyms = ਹਾਂਜੀ, ਹਾਂ ਜੀ, ਜੀ ਹਾਂ, ਠੀਕ ਹੈ, ਜ਼ਰੂਰ, ਬਿਲਕੁਲ, haan, han, haanji, haan ji, ji, theek hai, 👍
opt-no = ਨਹੀਂ
    .synonyms = ਨਹੀਂ ਜੀ, ਨਾ, ਜੀ ਨਹੀਂ, nahi, nahin, nai, na, nahi ji
opt-not-yet = ਅਜੇ ਨਹੀਂ
    .synonyms = ਹਾਲੇ ਨਹੀਂ, ਜਲਦੀ, ਬਾਅਦ ਵਿੱਚ, aje nahi, haale nahi

# UCLA-3 ਅਤੇ ONS।
opt-hardly-ever = ਬਹੁਤ ਘੱਟ
    .synonyms = ਘੱਟ, ਕਦੇ ਹੀ, bahut ghat, ghat
opt-some-of-the-time = ਕਦੇ-ਕਦੇ
    .synonyms = ਕਦੇ ਕਦੇ, ਕਈ ਵਾਰ, kade kade, kai vaar
opt-often = ਅਕਸਰ
    .synonyms = ਬਹੁਤ ਵਾਰ, ਹਮੇਸ਼ਾ, ਹਰ ਵੇਲੇ, aksar, hamesha
opt-often-always = ਅਕਸਰ/ਹਮੇਸ਼ਾ
    .synonyms = ਅਕਸਰ, ਹਮੇਸ਼ਾ, ਬਹੁਤ ਵਾਰ, ਹਰ ਵੇਲੇ, aksar, hamesha
opt-occasionally = ਕਦੇ-ਕਦਾਈਂ
    .synonyms = ਕਦੇ ਕਦਾਈਂ, ਕਦੀ ਕਦਾਈਂ, kade kadai
opt-never = ਕਦੇ ਨਹੀਂ
    .synonyms = ਕਦੀ ਨਹੀਂ, ਬਿਲਕੁਲ ਨਹੀਂ, kade nahi, kadi nahi

# ਸਮਾਂ।
opt-morning = ਸਵੇਰ
    .synonyms = ਸਵੇਰੇ, savere, saver
opt-afternoon = ਦੁਪਹਿਰ
    .synonyms = ਦੁਪਹਿਰੇ, dupehar
opt-evening = ਸ਼ਾਮ
    .synonyms = ਸ਼ਾਮੀਂ, ਰਾਤ, shaam, sham, raat
opt-any-time = ਕਿਸੇ ਵੀ ਸਮੇਂ
    .synonyms = ਕਦੇ ਵੀ, ਕੋਈ ਵੀ ਸਮਾਂ, ਕੋਈ ਫ਼ਰਕ ਨਹੀਂ, kade vi, koi vi

# ਹੁਣ ਸਭ ਤੋਂ ਜ਼ਰੂਰੀ।
opt-lonely = ਇਕੱਲਾਪਣ
    .synonyms = ਇਕੱਲਾ, ਇਕੱਲੀ, ikalla, ikalli
opt-bored = ਬੋਰੀਅਤ
    .synonyms = ਬੋਰ, bore, bor
opt-disconnected = ਦੂਰੀਆਂ
    .synonyms = ਕੱਟਿਆ ਹੋਣਾ, ਕੱਟਿਆ, ਦੂਰੀ, ਅਲੱਗ
opt-making-ends-meet = ਪੈਸੇ
    .synonyms = ਪੈਸੇ ਦੀ ਤੰਗੀ, ਪੈਸਾ, ਤੰਗੀ, ਬਿੱਲ, paise, paisa
opt-housing = ਮਕਾਨ
    .synonyms = ਘਰ ਦੀ ਸਮੱਸਿਆ, ਘਰ, ਕਿਰਾਇਆ, ghar, kiraya
opt-work = ਕੰਮ ਨਹੀਂ
    .synonyms = ਕੰਮ, ਨੌਕਰੀ, kam, naukri, job
opt-sad = ਉਦਾਸੀ
    .synonyms = ਉਦਾਸ, ਦੁਖੀ, udaas, dukhi
opt-no-one-to-rely-on = ਬੇਸਹਾਰਾ
    .synonyms = ਕੋਈ ਸਹਾਰਾ ਨਹੀਂ, ਕੋਈ ਨਹੀਂ, ਸਹਾਰਾ, koi nahi
opt-getting-older = ਵਧਦੀ ਉਮਰ
    .synonyms = ਉਮਰ, ਬੁਢਾਪਾ, umar, budhapa
opt-other = ਕੁਝ ਹੋਰ
    .synonyms = ਹੋਰ, kuj hor, hor

# ਰੁਕਾਵਟਾਂ।
opt-transport = ਆਵਾਜਾਈ
    .synonyms = ਬੱਸ, ਗੱਡੀ, ਸਵਾਰੀ, ਬਹੁਤ ਦੂਰ, ਦੂਰ, bus, gaddi, door
opt-cost = ਖ਼ਰਚਾ
    .synonyms = ਖਰਚਾ, ਮਹਿੰਗਾ, ਪੈਸੇ, ਫ਼ੀਸ, mehnga, kharcha, paise
opt-not-up-to-it = ਹਿੰਮਤ ਨਹੀਂ ਸੀ
    .synonyms = ਥੱਕਿਆ, ਥੱਕੀ, ਬਿਮਾਰ, ਠੀਕ ਨਹੀਂ ਸੀ, bimar, thakeya
opt-not-welcome = ਸੁਆਗਤ ਨਹੀਂ ਲੱਗਿਆ
    .synonyms = ਸੁਆਗਤ ਨਹੀਂ, ਚੰਗਾ ਨਹੀਂ ਲੱਗਿਆ, ਓਪਰਾ ਲੱਗਿਆ
opt-timing = ਸਮਾਂ
    .synonyms = ਸਮਾਂ ਨਹੀਂ, ਟਾਈਮ, ਵਿਅਸਤ, time, busy

# ਭਾਈਚਾਰੇ ਨਾਲ ਜੁੜਾਅ।
opt-very-strong = ਬਹੁਤ ਮਜ਼ਬੂਤ
    .synonyms = ਬਹੁਤ ਮਜਬੂਤ
opt-somewhat-strong = ਕੁਝ ਮਜ਼ਬੂਤ
    .synonyms = ਮਜ਼ਬੂਤ, ਮਜਬੂਤ
opt-somewhat-weak = ਕੁਝ ਕਮਜ਼ੋਰ
    .synonyms = ਕਮਜ਼ੋਰ, ਕਮਜੋਰ
opt-very-weak = ਬਹੁਤ ਕਮਜ਼ੋਰ
    .synonyms = ਬਹੁਤ ਕਮਜੋਰ

# ਮਾਨਸਿਕ ਸਿਹਤ।
opt-excellent = ਸ਼ਾਨਦਾਰ
    .synonyms = ਬਹੁਤ ਹੀ ਵਧੀਆ
opt-very-good = ਬਹੁਤ ਚੰਗੀ
    .synonyms = ਬਹੁਤ ਵਧੀਆ, ਬਹੁਤ ਚੰਗਾ
opt-good = ਚੰਗੀ
    .synonyms = ਚੰਗਾ, ਠੀਕ, ਵਧੀਆ, changi, theek
opt-fair = ਠੀਕ-ਠਾਕ
    .synonyms = ਠੀਕ ਠਾਕ, ਔਸਤ, theek thaak
opt-poor = ਮਾੜੀ
    .synonyms = ਮਾੜਾ, ਖ਼ਰਾਬ, ਖਰਾਬ, maadi, kharab

# How are things (holistic check-in).
opt-well = ਵਧੀਆ
opt-so-so = ਠੀਕ-ਠਾਕ
opt-not-well = ਚੰਗਾ ਨਹੀਂ
