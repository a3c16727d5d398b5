let v = 1; for (let i = 0; i < 200; i++) v = [v]; v
