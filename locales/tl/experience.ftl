exp-heard = Dalawang huling tanong. Naramdaman ba ninyong pinakinggan ng inyong navigator ang mahalaga sa inyo? I-reply ang OO o HINDI.
exp-recommend = Irerekomenda ba ninyo ang ganitong suporta sa katulad ninyo? I-reply ang OO o HINDI.
exp-thanks = Salamat. Nakatutulong ang inyong mga sagot para gumaling kami.
