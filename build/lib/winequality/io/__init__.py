"""Where wines come from and go to: locations (files, stdin, s3://, http(s)://), files
written atomically, the UCI import, validation, and the file formats of `wineq infer`."""
