import json,collections,os
HERE=os.path.dirname(os.path.abspath(__file__))
lab={}
for l in open(os.path.join(HERE,'labels_raw.txt')):
    p=l.split()
    if not p or p[0].startswith('#'): continue
    lab[int(p[0])]=sorted(set(p[1:]))
SLUGS={'russia-china','ukraine','us-china','us-russia','sanctions','taiwan','nato','xinjiang-hong-kong','energy-security'}
for v in lab.values(): assert set(v)<=SLUGS, v
import sys
upto=int(sys.argv[1]) if len(sys.argv)>1 else 10**9
c=collections.Counter(); n=0
with open(os.path.join(HERE,'topics-dev.jsonl'),'w') as f:
    for i,l in enumerate(open(os.path.join(HERE,'selected.jsonl'))):
        if i>=upto: break
        d=json.loads(l); d.pop('_line'); d.pop('_pool')
        d['labels']=lab.get(i,[]); c.update(d['labels']); n+=1
        f.write(json.dumps(d,ensure_ascii=False)+'\n')
print(n,dict(c), 'none:',sum(1 for i in range(n) if not lab.get(i)))
