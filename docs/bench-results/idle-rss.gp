# Drawn by: go run ./bench plot --in docs/bench-results/all.json --out docs/bench-results/idle-rss.png
set terminal pngcairo size 900,560 font "sans,11"
set output "idle-rss.png"
set title "Server RSS against idle connections (2026-11-26)"
set xlabel "open connections: Socket.IO clients, each in / and one room"
set ylabel "server RSS, MiB"
set key top left
set grid
set xrange [0:*]
set yrange [0:*]
plot "idle-rss.dat" index 0 with linespoints lw 2 pt 7 title "riptide (2.2 KiB per client)", \
     "idle-rss.dat" index 1 with linespoints lw 2 pt 7 title "node (13.1 KiB per client)", \
     "idle-rss.dat" index 2 with linespoints lw 2 pt 7 title "zishang520 (44.1 KiB per client)"
