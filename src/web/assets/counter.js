// The live SMS segment counter of the one-off message form (the form works without it).
(function(){var b=document.getElementById('body'),o=document.getElementById('counter'),tpl=o.getAttribute('data-template');
var gsm="@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",ext="^{}\\[~]|€";
function cost(s){var g=true,n=0;for(var ch of s){if(gsm.indexOf(ch)>=0)n+=1;else if(ext.indexOf(ch)>=0)n+=2;else{g=false;break;}}
if(g){return [n,n<=160?(n?1:0):Math.ceil(n/153),'GSM-7'];}var u=0;for(var ch of s){u+=ch.codePointAt(0)>0xFFFF?2:1;}return [u,u<=70?1:Math.ceil(u/67),'UCS-2'];}
function show(){var c=cost(b.value);o.textContent=tpl.replace('{chars}',c[0]).replace('{segments}',c[1]).replace('{encoding}',c[2]);}
b.addEventListener('input',show);show();})();
