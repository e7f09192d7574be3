# ਕੈਨੇਡੀਅਨ ਕਮਿਊਨਿਟੀ ਹੈਲਥ ਸਰਵੇ (CCHS) ਦੇ ਸਵਾਲ।
belonging-intro = ਤੁਹਾਡੇ ਭਾਈਚਾਰੇ ਅਤੇ ਸਿਹਤ ਬਾਰੇ ਦੋ ਛੋਟੇ ਸਵਾਲ। ਜਵਾਬ ਦਫ਼ਤਰੀ ਸਮੇਂ ਵਿੱਚ ਪੜ੍ਹੇ ਜਾਂਦੇ ਹਨ; ਸੰਕਟ: 9-8-8 ਜਾਂ 911।
# CCHS: project translation, pending validation.
cchs-belonging = ਆਪਣੇ ਸਥਾਨਕ ਭਾਈਚਾਰੇ ਨਾਲ ਆਪਣੇਪਣ ਦੀ ਭਾਵਨਾ ਨੂੰ ਤੁਸੀਂ ਕਿਵੇਂ ਦੱਸੋਗੇ? ਕੀ ਇਹ:
# CCHS: project translation, pending validation.
cchs-mental-health = ਆਮ ਤੌਰ ਤੇ, ਤੁਹਾਡੀ ਮਾਨਸਿਕ ਸਿਹਤ ਕਿਹੋ ਜਿਹੀ ਹੈ:
