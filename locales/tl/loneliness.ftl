# UCLA 3-item loneliness scale (Hughes et al. 2004) at ang direktang tanong ng ONS.
loneliness-intro = Ilang tanong tungkol sa nararamdaman ninyo. I-reply ang numero ng sagot. Binabasa ang sagot sa oras ng opisina; sa krisis, tumawag o mag-text sa 9-8-8, o 911.
# UCLA-3: project translation, pending validation.
ucla3-companionship = Gaano kadalas ninyo nararamdaman na kulang kayo sa kasama?
# UCLA-3: project translation, pending validation.
ucla3-left-out = Gaano kadalas ninyo nararamdaman na naiiwan kayo o hindi isinasali?
# UCLA-3: project translation, pending validation.
ucla3-isolated = Gaano kadalas ninyo nararamdaman na hiwalay kayo sa ibang tao?
# ONS direct question: project translation, pending validation.
ons-lonely = Gaano kadalas kayo nalulungkot dahil nag-iisa?
